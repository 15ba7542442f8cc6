import Foundation

/// What a secure item store (the Keychain) can answer, apart from its platform API.
public enum SecureItemError: Error, Equatable {
    /// The item exists but cannot be read now: the device is locked and the item's
    /// accessibility does not allow reads yet.
    case locked
    /// Any other failure, with the platform's status code.
    case failed(status: Int32)
}

/// One secret item: read, write (create or replace), delete.
public protocol SecureItem: Sendable {
    /// The item's bytes, `nil` when there is no item.
    func read() throws -> Data?
    func write(_ data: Data) throws
    func delete() throws
}

/// A `TokenStore` over one secure item (`KeychainTokenStore` is one). It keeps "the Keychain is locked" apart from
/// "there are no tokens", so a locked device never signs the user out.
///
/// Every refresh and its save run under a background task (`BackgroundTaskRefreshLock`),
/// so an app sent to the background finishes them, and lets the lock file go, before it
/// is suspended.
public class SecureItemTokenStore: TokenStore, @unchecked Sendable {
    private let item: SecureItem
    private let refresh: BackgroundTaskRefreshLock

    /// `lockFile`: where processes sharing the item (the app and its extensions) take
    /// turns to refresh, in a folder all of them reach (the App Group container). Without
    /// it, only one process may use the item, or two may spend one refresh token twice
    /// (the lock is then this process's own). `backgroundTasks`: the OS's, or a test's.
    public init(item: SecureItem, lockFile: URL? = nil, backgroundTasks: BackgroundTasks = SystemBackgroundTasks()) {
        self.item = item
        let lock = lockFile.map { fileRefreshLock(path: $0.path) } ?? ProcessRefreshLock()
        self.refresh = BackgroundTaskRefreshLock(wrapping: lock, backgroundTasks: backgroundTasks)
    }

    public func refreshLock() -> RefreshLock? { refresh }

    public func load() throws -> Tokens? {
        try refresh.reclaim()
        guard let data = try mapped({ try item.read() }) else { return nil }
        return TokenCoding.decode(data)
    }

    public func save(tokens: Tokens) throws {
        let data: Data
        do {
            data = try TokenCoding.encode(tokens)
        } catch {
            throw StoreError.failed(detail: "encode: \(error.localizedDescription)")
        }
        try refresh.reclaim()
        try mapped { try item.write(data) }
    }

    public func clear() throws {
        try refresh.reclaim()
        try mapped { try item.delete() }
    }

    /// Clears the store on the first launch after an install. Keychain items outlive the
    /// app, so without this a reinstall silently resumes the old session. Call it from the
    /// app before creating the `Session`, never from an extension (its `defaults` are its
    /// own). A failed clear (a locked Keychain) throws and is tried again next launch.
    public func clearIfFirstLaunch(defaults: UserDefaults = .standard, key: String = "dev.refreshkit.installed") throws {
        guard !defaults.bool(forKey: key) else { return }
        try clear()
        defaults.set(true, forKey: key)
    }

    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch SecureItemError.locked {
            throw StoreError.locked
        } catch SecureItemError.failed(let status) {
            throw StoreError.failed(detail: "keychain status \(status)")
        }
    }
}

/// Update, else add; if another process (an app extension) added the item between the
/// two, its add fails with errSecDuplicateItem and the update is tried once more.
func upsert(update: () -> Int32, add: () -> Int32) -> Int32 {
    let notFound: Int32 = -25300, duplicate: Int32 = -25299  // errSecItemNotFound, errSecDuplicateItem
    let updated = update()
    guard updated == notFound else { return updated }
    let added = add()
    return added == duplicate ? update() : added
}
