import Foundation
import RefreshKit
import Security

func lockAndFailureChecks() {
    check("a locked item is StoreError.locked on load, save and clear, never \"no tokens\"") {
        let store = KeychainTokenStore(accessibility: kSecAttrAccessibleWhenUnlockedThisDeviceOnly)
        try store.save(tokens: signedIn)
        SecurityStubControl.deviceLock = .lockedAfterFirstUnlock
        try expect(try storeError { _ = try store.load() } == .locked, "load")
        try expect(try storeError { try store.save(tokens: rotated) } == .locked, "save")
        try expect(try storeError { try store.clear() } == .locked, "clear")
        SecurityStubControl.deviceLock = .unlocked
        try expect(try store.load() == signedIn, "the tokens are still there once unlocked")
    }

    check("the default accessibility reads and writes on a locked device after the first unlock") {
        let store = KeychainTokenStore()
        try store.save(tokens: signedIn)
        let accessibility = SecurityStubControl.items.first?.attributes[kSecAttrAccessible] as? String
        try expect(accessibility == kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, "after first unlock, this device only")
        SecurityStubControl.deviceLock = .lockedAfterFirstUnlock
        try expect(try store.load() == signedIn, "a background refresh reads the tokens")
        try store.save(tokens: rotated)
        SecurityStubControl.deviceLock = .beforeFirstUnlock
        try expect(try storeError { _ = try store.load() } == .locked, "before the first unlock: Locked")
    }

    check("a missing entitlement is StoreError.failed carrying errSecMissingEntitlement") {
        let store = KeychainTokenStore()
        try store.save(tokens: signedIn)
        SecurityStubControl.missingEntitlement = true
        let errors = [
            ("load", try storeError { _ = try store.load() }),
            ("save", try storeError { try store.save(tokens: rotated) }),
            ("clear", try storeError { try store.clear() }),
        ]
        for (call, error) in errors {
            guard case .failed(let detail)? = error else { throw CheckFailure(description: "\(call): \(String(describing: error))") }
            try expect(detail.contains("\(errSecMissingEntitlement)"), "\(call): the detail names the status: \(detail)")
        }
    }

    check("a failed update other than not-found is reported and no add is tried") {
        let store = KeychainTokenStore()
        SecurityStubControl.failNext(with: errSecParam)
        guard case .failed(let detail)? = try storeError({ try store.save(tokens: signedIn) }) else {
            throw CheckFailure(description: "save did not fail")
        }
        try expect(detail.contains("\(errSecParam)"), "the detail names the status: \(detail)")
        try expect(calledFunctions() == ["SecItemUpdate"], "only the update ran: \(calledFunctions())")
        try expect(SecurityStubControl.items.isEmpty, "nothing stored")
    }
}
