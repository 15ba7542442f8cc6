import Foundation
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// Issue 10 from Swift, items 6, 8 and 12: a request belongs to its sign-in, the app's
/// own configuration mistakes keep the session, and a response has a size bound.
final class ServerTrustTests: XCTestCase {
    func testALate401AfterAnotherUserSignedInFailsWithSessionChangedAndNeverCarriesTheirToken() async throws {
        let server = try AuthServer()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore())
        let alice = try await server.login()
        try await session.signIn(tokens: alice)

        let transfer = Task {
            try await session.execute(HttpRequest(method: "POST", url: "/held", body: Data(#"{"amount":100}"#.utf8)))
        }
        try await eventually("Alice's request to reach the server") { try await server.stat("held_waiting") == 1 }
        try await session.signOut()
        let bob = try await server.login()
        try await session.signIn(tokens: bob)
        try await server.expireAll()
        try await server.releaseHeld()

        do {
            let response = try await transfer.value
            XCTFail("Alice's late 401 must not be replayed; got \(response.status)")
        } catch let error as SessionError {
            XCTAssertEqual(error, .sessionChanged)
        }
        // Compared, never printed: the server saw Alice's request once, never Bob's token.
        let seen = try await server.heldSeen()
        XCTAssertEqual(seen.count, 1, "requests /held received")
        XCTAssertTrue(seen.first == alice.accessToken, "the one request /held saw carried Alice's token")
        XCTAssertFalse(seen.contains(bob.accessToken), "Bob's token reached Alice's request")
    }

    func testInvalidClientFromTheRefreshEndpointIsClientRejectedAndKeepsTheTokens() async throws {
        let server = try AuthServer()
        let store = FlakyStore()
        let recorder = Recorder()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: store, listener: recorder)
        let first = try await server.login()
        try await session.signIn(tokens: first)
        try await server.expireAll()
        try await server.fault(#"{"kind": "answer", "status": 401, "body": {"error": "invalid_client"}}"#)

        do {
            _ = try await session.execute(HttpRequest(url: "/api/resource"))
            XCTFail("the refresh endpoint rejected the client")
        } catch let error as SessionError {
            XCTAssertEqual(error, .clientRejected(detail: "invalid_client"))
            XCTAssertFalse(error.isRetryable())
            XCTAssertFalse(error.requiresSignIn, "signing in again would not fix the app's client credentials")
        }

        XCTAssertEqual(session.state(), .active)
        XCTAssertTrue(store.tokens == first, "the refresh token is kept")
        try await eventually("the ClientRejected event") { recorder.events.contains(.clientRejected(detail: "invalid_client")) }
        XCTAssertFalse(recorder.events.contains { if case .expired = $0 { return true } else { return false } })
        // Once the app's configuration is fixed (here: the fault is gone), the same tokens work.
        let status = try await session.execute(HttpRequest(url: "/api/resource")).status
        XCTAssertEqual(status, 200)
    }

    func testAResponseOverMaxResponseBytesIsResponseTooLarge() async throws {
        let server = try AuthServer()
        var config = SessionConfig(baseUrl: server.baseURL)
        config.maxResponseBytes = 1000
        let session = try Session(config: config, store: FlakyStore())
        try await session.signIn(tokens: try await server.login())

        let small = try await session.execute(HttpRequest(url: "/big?bytes=1000"))
        XCTAssertEqual(small.body.count, 1000)
        do {
            _ = try await session.execute(HttpRequest(url: "/big?bytes=1001"))
            XCTFail("a body over the cap must be refused")
        } catch let error as SessionError {
            XCTAssertEqual(error, .responseTooLarge(limitBytes: 1000))
            XCTAssertFalse(error.isRetryable())
        }
    }
}
