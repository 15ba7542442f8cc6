import Foundation
import RefreshKit
import Security

let signedIn = Tokens(
    accessToken: "access-1", refreshToken: "refresh-1",
    expiresAt: Date(timeIntervalSince1970: 1_900_000_000), idToken: "id-1"
)
let rotated = Tokens(accessToken: "access-2", refreshToken: "refresh-2")

func readAndWriteChecks() {
    check("the first save adds one item with the accessibility, in the data protection keychain") {
        let store = KeychainTokenStore(
            service: "svc", account: "acct", accessibility: kSecAttrAccessibleWhenUnlockedThisDeviceOnly
        )
        try store.save(tokens: signedIn)
        let items = SecurityStubControl.items
        try expect(items.count == 1, "one item, found \(items.count)")
        let attributes = items[0].attributes
        try expect(attributes[kSecClass] as? String == kSecClassGenericPassword, "a generic password")
        try expect(attributes[kSecAttrService] as? String == "svc", "the service")
        try expect(attributes[kSecAttrAccount] as? String == "acct", "the account")
        try expect(attributes[kSecAttrAccessible] as? String == kSecAttrAccessibleWhenUnlockedThisDeviceOnly, "the accessibility")
        try expect(items[0].inDataProtectionKeychain, "added with kSecUseDataProtectionKeychain")
        try expect(try store.load() == signedIn, "the tokens read back as saved")
    }

    check("a second save replaces the item with one update and never adds another") {
        let store = KeychainTokenStore()
        try store.save(tokens: signedIn)
        let before = SecurityStubControl.calls.count
        try store.save(tokens: rotated)
        try expect(SecurityStubControl.items.count == 1, "one item, found \(SecurityStubControl.items.count)")
        try expect(Array(calledFunctions().dropFirst(before)) == ["SecItemUpdate"], "one update, got \(calledFunctions().dropFirst(before))")
        try expect(try store.load() == rotated, "the rotated tokens read back")
    }

    check("every call uses the data protection keychain and reads one item's data") {
        let store = KeychainTokenStore()
        try store.save(tokens: signedIn)
        try store.save(tokens: rotated)
        _ = try store.load()
        try store.clear()
        let calls = SecurityStubControl.calls
        try expect(Set(calls.map(\.function)).count == 4, "add, update, copy and delete were called: \(calls.map(\.function))")
        for call in calls {
            try expect(call.query[kSecUseDataProtectionKeychain] as? Bool == true, "\(call.function) without kSecUseDataProtectionKeychain")
        }
        for call in calls where call.function == "SecItemCopyMatching" {
            try expect(call.query[kSecReturnData] as? Bool == true, "the read asks for the data")
            try expect(call.query[kSecMatchLimit] as? String == kSecMatchLimitOne, "the read asks for one item")
        }
    }

    check("clear deletes the item, and clearing when nothing is stored succeeds") {
        let store = KeychainTokenStore()
        try store.clear()
        try store.save(tokens: signedIn)
        try store.clear()
        try expect(SecurityStubControl.items.isEmpty, "no item left")
        try expect(try store.load() == nil, "signed out after clear")
        try store.clear()
    }

    check("service and account keep two stores apart") {
        let first = KeychainTokenStore(service: "svc", account: "first")
        let second = KeychainTokenStore(service: "svc", account: "second")
        try first.save(tokens: signedIn)
        try expect(try second.load() == nil, "the second account sees no tokens")
        try second.save(tokens: rotated)
        try first.clear()
        try expect(try second.load() == rotated, "clearing the first keeps the second")
    }

    check("an item that holds no tokens reads as signed out") {
        let status = SecItemAdd([
            kSecClass: kSecClassGenericPassword, kSecAttrService: "dev.refreshkit.tokens",
            kSecAttrAccount: "default", kSecUseDataProtectionKeychain: true, kSecValueData: Data("junk".utf8),
        ], nil)
        try expect(status == errSecSuccess, "seeded the item (\(status))")
        try expect(try KeychainTokenStore().load() == nil, "junk is no tokens")
    }
}
