import Foundation
import RefreshKit
import RefreshKitTestSupport
import XCTest

final class CancellationTests: XCTestCase {
    func testACancelledExecuteWaitingForARefreshIsNeverSent() async throws {
        let (server, session, _) = try await signedInWithAHeldRefresh()

        let calls = (0..<50).map { _ in
            Task { try await session.execute(HttpRequest(method: "POST", url: "/api/resource")) }
        }
        try await eventually("the 50 calls to start") { session.metrics().requests == 50 }
        try await eventually("the refresh to reach the server") { try await server.stat("refresh_requests") == 1 }
        calls.forEach { $0.cancel() }
        for call in calls {
            let outcome = await call.result
            guard case .failure(let error) = outcome, error is CancellationError else {
                return XCTFail("expected CancellationError, got \(outcome)")
            }
        }
        try await server.release()

        let after = try await session.execute(HttpRequest(url: "/api/resource"))
        XCTAssertEqual(after.status, 200)
        let served = try await server.stat("served")
        XCTAssertEqual(served, 1, "cancelled requests reached the server")
    }

    func testACancelledTokenCallThrowsCancellationAndTheRefreshGoesOnForTheOthers() async throws {
        let (server, session, login) = try await signedInWithAHeldRefresh()

        let cancelled = Task { try await session.accessToken() }
        let waiting = Task { try await session.accessToken() }
        try await eventually("both callers to wait for the refresh") { session.metrics().waitingForRefresh == 2 }
        try await eventually("the refresh to reach the server") { try await server.stat("refresh_requests") == 1 }
        cancelled.cancel()
        let outcome = await cancelled.result
        guard case .failure(let error) = outcome, error is CancellationError else {
            return XCTFail("expected CancellationError, got \(outcome)")
        }
        try await server.release()

        let token = try await waiting.value
        XCTAssertNotEqual(token, login.accessToken, "the other caller got the refreshed token")
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 1)
    }

    /// A session whose token has expired on the client's clock, so every call waits for a
    /// refresh, and a server that holds the refresh until `release()`.
    private func signedInWithAHeldRefresh() async throws -> (AuthServer, Session, Tokens) {
        let server = try AuthServer()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore())
        let login = try await server.login()
        try await session.signIn(tokens: Tokens(accessToken: login.accessToken, refreshToken: login.refreshToken,
                                                expiresAt: Date(timeIntervalSinceNow: -60)))
        try await server.fault(#"{"kind": "delay", "ms": 0, "gated": true}"#)
        return (server, session, login)
    }
}
