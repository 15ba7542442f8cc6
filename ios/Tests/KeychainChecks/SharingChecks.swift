import Foundation
import RefreshKit
import Security

func sharingChecks() {
    check("the access group is part of every query when given") {
        let store = KeychainTokenStore(accessGroup: "TEAMID.group.shared")
        try store.save(tokens: signedIn)
        try store.save(tokens: rotated)
        _ = try store.load()
        let group = SecurityStubControl.items.first?.attributes[kSecAttrAccessGroup] as? String
        try expect(group == "TEAMID.group.shared", "the item is in the group: \(String(describing: group))")
        try store.clear()
        for call in SecurityStubControl.calls {
            try expect(call.query[kSecAttrAccessGroup] as? String == "TEAMID.group.shared", "\(call.function) names the group")
        }
    }

    check("another access group does not see the shared item") {
        try KeychainTokenStore(accessGroup: "TEAMID.group.shared").save(tokens: signedIn)
        try expect(try KeychainTokenStore(accessGroup: "TEAMID.group.other").load() == nil, "no tokens in another group")
    }

    check("without an access group no query names one and the item goes to the app's first group") {
        let store = KeychainTokenStore()
        try store.save(tokens: signedIn)
        _ = try store.load()
        try expect(SecurityStubControl.calls.allSatisfy { $0.query[kSecAttrAccessGroup] == nil }, "no query names a group")
        let group = SecurityStubControl.items.first?.attributes[kSecAttrAccessGroup] as? String
        try expect(group == SecurityStubControl.defaultTestAccessGroup, "the app's first group: \(String(describing: group))")
    }

    check("an add racing another process's add is retried as an update") {
        let store = KeychainTokenStore(accessGroup: "TEAMID.group.shared")
        SecurityStubControl.anotherProcessAddsBeforeNextAdd(data: Data("the extension's bytes".utf8))
        try store.save(tokens: signedIn)
        try expect(calledFunctions() == ["SecItemUpdate", "SecItemAdd", "SecItemUpdate"], "update, add, update: \(calledFunctions())")
        try expect(SecurityStubControl.items.count == 1, "one item, found \(SecurityStubControl.items.count)")
        try expect(try store.load() == signedIn, "this save's tokens won")
    }

    check("the first launch after an install clears an earlier install's item, later launches keep theirs") {
        try withFreshDefaults { defaults in
            let store = KeychainTokenStore()
            try store.save(tokens: signedIn)  // left by the earlier install
            try store.clearIfFirstLaunch(defaults: defaults)
            try expect(SecurityStubControl.items.isEmpty, "the earlier install's item is gone")
            try store.save(tokens: rotated)
            try store.clearIfFirstLaunch(defaults: defaults)
            try expect(try store.load() == rotated, "the next launch keeps the session")
        }
    }

    check("a first-launch clear that meets a locked item throws and is tried again next launch") {
        try withFreshDefaults { defaults in
            let store = KeychainTokenStore(accessibility: kSecAttrAccessibleWhenUnlockedThisDeviceOnly)
            try store.save(tokens: signedIn)
            SecurityStubControl.deviceLock = .lockedAfterFirstUnlock
            try expect(try storeError { try store.clearIfFirstLaunch(defaults: defaults) } == .locked, "Locked")
            SecurityStubControl.deviceLock = .unlocked
            try store.clearIfFirstLaunch(defaults: defaults)
            try expect(SecurityStubControl.items.isEmpty, "cleared on the next launch")
        }
    }
}

/// A `UserDefaults` no other run shares, removed afterwards.
private func withFreshDefaults(_ body: (UserDefaults) throws -> Void) throws {
    let name = "refreshkit-keychain-checks-\(UUID().uuidString)"
    defer { UserDefaults.standard.removePersistentDomain(forName: name) }
    try body(UserDefaults(suiteName: name)!)
}
