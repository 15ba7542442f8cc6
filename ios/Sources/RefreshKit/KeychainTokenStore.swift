#if canImport(Security)
import Foundation
import Security

/// Tokens in one generic-password Keychain item.
///
/// - `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly` by default: refreshes work in
///   the background once the device has been unlocked after boot, and the tokens do
///   not travel to another device in a backup.
/// - `accessGroup` shares the session with app extensions (a widget, a share extension)
///   that are in the same Keychain access group. Give them one `lockFile` in the App
///   Group container, e.g. `FileManager.default.containerURL(forSecurityApplicationGroupIdentifier:
///   "group.com.example")!.appendingPathComponent("refreshkit.lock")`: they then refresh
///   one at a time and never spend one refresh token twice. The lock is held only under
///   a background task, around the refresh and its save (`BackgroundTaskRefreshLock`):
///   iOS kills an app suspended holding a file lock in an App Group container.
/// - A locked Keychain (`errSecInteractionNotAllowed`) throws `StoreError.locked`; it is
///   never mistaken for "no tokens".
/// - Keychain items survive uninstalling the app: call `clearIfFirstLaunch()` on the
///   store (from the app, not its extensions) so a reinstall starts signed out.
public final class KeychainTokenStore: SecureItemTokenStore, @unchecked Sendable {
    public init(
        service: String = "dev.refreshkit.tokens",
        account: String = "default",
        accessGroup: String? = nil,
        accessibility: CFString = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        lockFile: URL? = nil,
        backgroundTasks: BackgroundTasks = SystemBackgroundTasks()
    ) {
        super.init(item: KeychainItem(
            service: service, account: account, accessGroup: accessGroup, accessibility: accessibility
        ), lockFile: lockFile, backgroundTasks: backgroundTasks)
    }
}

struct KeychainItem: SecureItem, @unchecked Sendable {
    let service: String
    let account: String
    let accessGroup: String?
    let accessibility: CFString

    private var query: [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecUseDataProtectionKeychain as String: true,
        ]
        if let accessGroup { query[kSecAttrAccessGroup as String] = accessGroup }
        return query
    }

    func read() throws -> Data? {
        var request = query
        request[kSecReturnData as String] = true
        request[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(request as CFDictionary, &result)
        switch status {
        case errSecSuccess: return result as? Data
        case errSecItemNotFound: return nil
        default: throw Self.error(status)
        }
    }

    func write(_ data: Data) throws {
        let attributes: [String: Any] = [
            kSecValueData as String: data,
            kSecAttrAccessible as String: accessibility,
        ]
        let status = upsert(
            update: { SecItemUpdate(query as CFDictionary, attributes as CFDictionary) },
            add: { SecItemAdd(query.merging(attributes) { $1 } as CFDictionary, nil) }
        )
        guard status == errSecSuccess else { throw Self.error(status) }
    }

    func delete() throws {
        let status = SecItemDelete(query as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else { throw Self.error(status) }
    }

    private static func error(_ status: OSStatus) -> SecureItemError {
        status == errSecInteractionNotAllowed ? .locked : .failed(status: status)
    }
}
#endif
