import Foundation

/// A `TokenStore` in a file, replaced atomically: a crash leaves the old tokens or the
/// new ones. For Linux, macOS tools and tests; iOS apps use `KeychainTokenStore`.
/// Processes sharing the file refresh one at a time, through a lock file beside it.
public final class FileTokenStore: TokenStore, @unchecked Sendable {
    private let url: URL
    private let lock = NSLock()
    private let refresh: RefreshLock

    public init(url: URL) {
        self.url = url
        self.refresh = fileRefreshLock(path: url.path + ".lock")
    }

    public func refreshLock() -> RefreshLock? { refresh }

    public func load() throws -> Tokens? {
        lock.lock()
        defer { lock.unlock() }
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return TokenCoding.decode(try Data(contentsOf: url))
        } catch {
            throw StoreError.failed(detail: "read: \(error.localizedDescription)")
        }
    }

    public func save(tokens: Tokens) throws {
        lock.lock()
        defer { lock.unlock() }
        do {
            try TokenCoding.encode(tokens).write(to: url, options: .atomic)
        } catch {
            throw StoreError.failed(detail: "write: \(error.localizedDescription)")
        }
    }

    public func clear() throws {
        lock.lock()
        defer { lock.unlock() }
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        do {
            try FileManager.default.removeItem(at: url)
        } catch {
            throw StoreError.failed(detail: "remove: \(error.localizedDescription)")
        }
    }
}
