import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit
import XCTest

/// The README's iOS quick start, kept compiling. It is not run (it talks to
/// api.example.com); on Linux a file store stands in for the Keychain, which needs
/// Security.
final class ReadmeQuickStartTests: XCTestCase {
    func testTheQuickStartCompiles() {
        _ = readmeQuickStart
    }
}

private func readmeQuickStart(url: URL, showLogin: @escaping @Sendable () -> Void) async throws {
    // Shared with extensions: one Keychain access group, and one lock file in the App Group
    // container, so the app and its extensions take turns to refresh.
    #if canImport(Security)
    let group = FileManager.default.containerURL(forSecurityApplicationGroupIdentifier: "group.com.example")!
    let store = KeychainTokenStore(
        accessGroup: "TEAMID.com.example.shared",
        lockFile: group.appendingPathComponent("refreshkit.lock")
    )
    #else
    let group = FileManager.default.temporaryDirectory
    let store = SecureItemTokenStore(item: FileItem(), lockFile: group.appendingPathComponent("refreshkit.lock"))
    #endif
    try store.clearIfFirstLaunch()   // Keychain items outlive an uninstall (the app only, not extensions)
    let events = SessionEvents()
    // Safe on the main thread: the Keychain is read in the background (`.loading` until then).
    let session = try Session(
        config: SessionConfig(baseUrl: "https://api.example.com"),
        store: store,
        listener: events
    )
    if await session.restoredState() != .active { showLogin() }
    let me = try await session.execute(HttpRequest(url: "/me"))   // cancelling the Task cancels the request

    // Capture the stream, not `events`: the loop ends with the session, or at `events.finish()`.
    Task { [stream = events.stream] in
        for await case .expired in stream { showLogin() }
    }

    // Apps that keep URLSession. The session's config decides hosts, header and what
    // "expired" means; every redirect hop is checked; cancelling the Task cancels the task.
    let client = AuthorizedURLSession(session: session)
    let (data, response) = try await client.data(for: URLRequest(url: url))
    _ = (me, data, response)
}

private struct FileItem: SecureItem {
    func read() throws -> Data? { nil }
    func write(_ data: Data) throws {}
    func delete() throws {}
}
