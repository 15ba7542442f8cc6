import Foundation

/// Test-only controls of the stub Keychain: not Apple's API, so code that ships never
/// names it. Each setting holds until `reset()`, except `keyMaker`.
public enum SecurityStubControl {
    /// What a locked device lets through, by the item's `kSecAttrAccessible`.
    public enum DeviceLock {
        case unlocked
        /// Locked, but unlocked once since boot: only the `AfterFirstUnlock` items answer.
        case lockedAfterFirstUnlock
        /// Not unlocked since boot: every item answers errSecInteractionNotAllowed.
        case beforeFirstUnlock
    }

    /// One SecItem call as it reached the stub.
    public struct Call {
        public let function: String
        public let query: [String: Any]
    }

    /// The app's first access group: where items added without one go.
    public static let defaultTestAccessGroup = "TEAMID.dev.refreshkit.checks"

    /// Empties the Keychain, forgets the calls and clears every control below.
    public static func reset() {
        StubKeychain.shared.locked {
            $0.items = []
            $0.calls = []
            $0.deviceLock = .unlocked
            $0.missingEntitlement = false
            $0.failures = []
            $0.racingAddData = nil
            $0.hasSecureEnclave = true
        }
    }

    /// Makes the material of each new key (SecKeyCreateRandomKey): the stub has no ECDSA of
    /// its own. Without one, making a key fails with errSecUnimplemented. Kept across `reset()`.
    public static var keyMaker: (() -> StubKeyMaterial)? {
        get { StubKeychain.shared.locked { $0.keyMaker } }
        set { StubKeychain.shared.locked { $0.keyMaker = newValue } }
    }

    /// Whether the device has a Secure Enclave; without (a simulator), a key asked for in
    /// it fails with errSecUnimplemented.
    public static var hasSecureEnclave: Bool {
        get { StubKeychain.shared.locked { $0.hasSecureEnclave } }
        set { StubKeychain.shared.locked { $0.hasSecureEnclave = newValue } }
    }

    public static var items: [StubItem] { StubKeychain.shared.locked { $0.items } }

    public static var calls: [Call] { StubKeychain.shared.locked { $0.calls } }

    public static var deviceLock: DeviceLock {
        get { StubKeychain.shared.locked { $0.deviceLock } }
        set { StubKeychain.shared.locked { $0.deviceLock = newValue } }
    }

    /// An app without the keychain-access-groups entitlement: every call answers
    /// errSecMissingEntitlement.
    public static var missingEntitlement: Bool {
        get { StubKeychain.shared.locked { $0.missingEntitlement } }
        set { StubKeychain.shared.locked { $0.missingEntitlement = newValue } }
    }

    /// The next `count` calls, whatever they are, answer `status`.
    public static func failNext(_ count: Int = 1, with status: OSStatus) {
        StubKeychain.shared.locked { $0.failures += Array(repeating: status, count: count) }
    }

    /// Another process (an app extension) adds the same item, holding `data`, just before
    /// the next SecItemAdd: the caller's update found nothing, and its add now meets
    /// errSecDuplicateItem.
    public static func anotherProcessAddsBeforeNextAdd(data: Data) {
        StubKeychain.shared.locked { $0.racingAddData = data }
    }

    /// The flags an access control was made with (Apple's API does not show them).
    public static func flags(of access: SecAccessControl) -> SecAccessControlCreateFlags { access.flags }
}
