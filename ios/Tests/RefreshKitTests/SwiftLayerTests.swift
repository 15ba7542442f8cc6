import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit
import RefreshKitTestSupport
import XCTest

final class SwiftLayerTests: XCTestCase {
    func testACancelledTaskGetsCancellationErrorWhileItsRefreshRunsOn() async throws {
        let server = try AuthServer()
        let store = FlakyStore()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: store)
        let first = try await server.login()
        try await session.signIn(tokens: first)
        try await server.expireAll()
        try await server.fault(#"{"kind": "delay", "ms": 800}"#)

        let starter = Task { try await session.execute(HttpRequest(url: "/api/resource")) }
        try await eventually("the refresh to reach the server") { try await server.stat("refresh_requests") == 1 }
        starter.cancel()
        let outcome = await starter.result
        guard case .failure(let error) = outcome, error is CancellationError else {
            return XCTFail("expected CancellationError, got \(outcome)")
        }
        XCTAssertEqual(store.tokens, first, "the caller was released before the refresh answer arrived")

        // Another request waits for the same refresh and succeeds with its result.
        let status = try await session.execute(HttpRequest(url: "/api/resource")).status
        XCTAssertEqual(status, 200)
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 1)
        XCTAssertNotEqual(store.tokens?.refreshToken, first.refreshToken)
    }

    func testEventsArriveOnAnAsyncStream() async throws {
        let server = try AuthServer()
        let events = SessionEvents()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), listener: events)
        try await session.signIn(tokens: try await server.login())
        try await server.expireAll()
        try await server.fault(#"{"kind": "invalid_grant"}"#)
        _ = try? await session.execute(HttpRequest(url: "/api/resource"))

        var seen: [SessionEvent] = []
        for await event in events.stream {
            seen.append(event)
            if case .expired = event { break }
        }
        XCTAssertEqual(seen.first, .signedIn)
        XCTAssertEqual(seen.last, .expired(reason: .refreshRejected))
    }

    func testURLSessionIntegrationMakesOneRefreshFor200ConcurrentRequests() async throws {
        let server = try AuthServer()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore())
        try await session.signIn(tokens: try await server.login())
        try await server.expireAll()
        let client = AuthorizedURLSession(session: session)
        let url = URL(string: "\(server.baseURL)/api/resource")!

        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<200 {
                group.addTask { try await client.data(for: URLRequest(url: url)).1.statusCode }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }

        XCTAssertEqual(statuses, Array(repeating: 200, count: 200))
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 1)
    }

    func testTokensDescriptionShowsNoSecret() {
        let tokens = Tokens(accessToken: "secret-access", refreshToken: "secret-refresh")
        for text in ["\(tokens)", String(reflecting: tokens)] {
            XCTAssertFalse(text.contains("secret-access") || text.contains("secret-refresh"), text)
            XCTAssertTrue(text.contains("redacted"), text)
        }
    }

    func testTheKeychainStoreKeepsLockedApartFromEmpty() throws {
        final class MemoryItem: SecureItem, @unchecked Sendable {
            var data: Data?
            var error: SecureItemError?
            func read() throws -> Data? { if let error { throw error }; return data }
            func write(_ data: Data) throws { if let error { throw error }; self.data = data }
            func delete() throws { data = nil }
        }
        let item = MemoryItem()
        let store = SecureItemTokenStore(item: item)
        XCTAssertNil(try store.load())
        let tokens = Tokens(accessToken: "a", refreshToken: "r", expiresAt: Date(timeIntervalSince1970: 1_700_000_000))
        try store.save(tokens: tokens)
        XCTAssertEqual(try store.load(), tokens)

        item.error = .locked
        XCTAssertThrowsError(try store.load()) { XCTAssertEqual($0 as? StoreError, .locked) }
        item.error = .failed(status: -25300)
        XCTAssertThrowsError(try store.load()) { guard case StoreError.failed = $0 else { return XCTFail("\($0)") } }

        item.error = nil
        item.data = Data("not tokens".utf8)
        XCTAssertNil(try store.load(), "unreadable bytes mean signed out, not stuck")
    }
}
