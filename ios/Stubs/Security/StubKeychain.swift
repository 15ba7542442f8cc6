import Foundation

/// One item of the stub Keychain: its attributes (class, service, account, access group,
/// accessibility), its secret bytes and which keychain it was added to.
public struct StubItem {
    public internal(set) var attributes: [String: Any]
    public internal(set) var data: Data
    /// Added with `kSecUseDataProtectionKeychain`. As on macOS, only queries that say so
    /// find it (iOS has no other keychain).
    public let inDataProtectionKeychain: Bool
    /// The key of a `kSecClassKey` item, what `kSecReturnRef` answers with.
    public internal(set) var key: SecKey? = nil
}

/// The in-memory Keychain behind the stub's SecItem functions, one per process. Every
/// call runs under one lock, as the real functions are safe to call from any thread.
final class StubKeychain: @unchecked Sendable {
    static let shared = StubKeychain()

    private let lock = NSLock()
    var items: [StubItem] = []
    var calls: [SecurityStubControl.Call] = []
    var deviceLock = SecurityStubControl.DeviceLock.unlocked
    var missingEntitlement = false
    var failures: [OSStatus] = []
    var racingAddData: Data?
    var hasSecureEnclave = true
    var keyMaker: (() -> StubKeyMaterial)?
    var defaultAccessGroup = SecurityStubControl.defaultTestAccessGroup

    func locked<T>(_ body: (StubKeychain) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }

    /// Records the call, then answers with an injected failure or `body`'s status.
    func call(_ function: String, _ query: [String: Any], _ body: (StubKeychain) -> OSStatus) -> OSStatus {
        locked {
            $0.calls.append(.init(function: function, query: query))
            if $0.missingEntitlement { return errSecMissingEntitlement }
            if !$0.failures.isEmpty { return $0.failures.removeFirst() }
            return body($0)
        }
    }

    func copyMatching(_ query: [String: Any], _ result: UnsafeMutablePointer<CFTypeRef?>?) -> OSStatus {
        guard query[kSecClass] != nil else { return errSecParam }
        let found = items.filter { matches(query, $0) }
        guard !found.isEmpty else { return errSecItemNotFound }
        guard found.allSatisfy(reachable) else { return errSecInteractionNotAllowed }
        if query[kSecReturnData] as? Bool == true, let result {
            // Apple answers with CFData (NSData), one or an array of them.
            result.pointee = query[kSecMatchLimit] as? String == kSecMatchLimitAll
                ? NSArray(array: found.map { NSData(data: $0.data) })
                : NSData(data: found[0].data)
        } else if query[kSecReturnRef] as? Bool == true, let result {
            result.pointee = found[0].key
        }
        return errSecSuccess
    }

    func add(_ attributes: [String: Any], key: SecKey? = nil) -> OSStatus {
        guard attributes[kSecClass] != nil else { return errSecParam }
        var stored = attributes.filter { Self.isAttribute($0.key) }
        stored[kSecAttrAccessGroup] = stored[kSecAttrAccessGroup] ?? defaultAccessGroup
        stored[kSecAttrAccessible] = stored[kSecAttrAccessible] ?? kSecAttrAccessibleWhenUnlocked
        let item = StubItem(
            attributes: stored, data: attributes[kSecValueData] as? Data ?? Data(),
            inDataProtectionKeychain: Self.usesDataProtection(attributes), key: key
        )
        guard reachable(item) else { return errSecInteractionNotAllowed }
        if let racing = racingAddData {
            racingAddData = nil
            items.append(StubItem(attributes: stored, data: racing, inDataProtectionKeychain: item.inDataProtectionKeychain))
        }
        guard !items.contains(where: { Self.samePrimaryKey($0, item) }) else { return errSecDuplicateItem }
        items.append(item)
        return errSecSuccess
    }

    func update(_ query: [String: Any], _ changes: [String: Any]) -> OSStatus {
        guard query[kSecClass] != nil, changes[kSecClass] == nil else { return errSecParam }
        let hits = items.indices.filter { matches(query, items[$0]) }
        guard !hits.isEmpty else { return errSecItemNotFound }
        guard hits.allSatisfy({ reachable(items[$0]) }) else { return errSecInteractionNotAllowed }
        for i in hits {
            if let data = changes[kSecValueData] as? Data { items[i].data = data }
            for (key, value) in changes where Self.isAttribute(key) { items[i].attributes[key] = value }
        }
        return errSecSuccess
    }

    func delete(_ query: [String: Any]) -> OSStatus {
        guard query[kSecClass] != nil else { return errSecParam }
        let found = items.filter { matches(query, $0) }
        guard !found.isEmpty else { return errSecItemNotFound }
        guard found.allSatisfy(reachable) else { return errSecInteractionNotAllowed }
        items.removeAll { matches(query, $0) }
        return errSecSuccess
    }

    /// Whether the device's lock state lets the item be read or written now.
    private func reachable(_ item: StubItem) -> Bool {
        let accessibility = item.attributes[kSecAttrAccessible] as? String
        switch deviceLock {
        case .unlocked: return true
        case .lockedAfterFirstUnlock:
            return [kSecAttrAccessibleAfterFirstUnlock, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly].contains(accessibility)
        case .beforeFirstUnlock: return false
        }
    }

    /// Every attribute the query names must be equal; a query without an access group
    /// searches every group the app has.
    private func matches(_ query: [String: Any], _ item: StubItem) -> Bool {
        item.inDataProtectionKeychain == Self.usesDataProtection(query)
            && query.allSatisfy { key, value in !Self.isAttribute(key) || Self.same(item.attributes[key], value) }
    }

    private static func samePrimaryKey(_ a: StubItem, _ b: StubItem) -> Bool {
        a.inDataProtectionKeychain == b.inDataProtectionKeychain
            && [kSecClass, kSecAttrService, kSecAttrAccount, kSecAttrAccessGroup, kSecAttrKeyClass, kSecAttrApplicationTag]
            .allSatisfy {
                same(a.attributes[$0], b.attributes[$0])
            }
    }

    private static func isAttribute(_ key: String) -> Bool {
        ![kSecReturnData, kSecReturnRef, kSecMatchLimit, kSecUseDataProtectionKeychain, kSecValueData].contains(key)
    }

    private static func usesDataProtection(_ query: [String: Any]) -> Bool {
        query[kSecUseDataProtectionKeychain] as? Bool == true
    }

    /// Equal values; two missing attributes are equal too (both default).
    private static func same(_ a: Any?, _ b: Any?) -> Bool {
        if a == nil, b == nil { return true }
        guard let a = a as? AnyHashable, let b = b as? AnyHashable else { return false }
        return a == b
    }
}
