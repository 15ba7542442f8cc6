import Foundation
import RefreshKit
import RefreshKitTestSupport
import XCTest

final class SessionTests: XCTestCase {
    func testThousandConcurrentTasksMeetAnExpiredTokenAndShareOneRefresh() async throws {
        let server = try AuthServer()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore())
        try await session.signIn(tokens: try await server.login())
        try await server.expireAll()

        let statuses = try await withThrowingTaskGroup(of: UInt16.self) { group in
            for _ in 0..<1000 {
                group.addTask { try await session.execute(HttpRequest(url: "/api/resource")).status }
            }
            return try await group.reduce(into: [UInt16]()) { $0.append($1) }
        }

        XCTAssertEqual(statuses, Array(repeating: 200, count: 1000))
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 1)
        XCTAssertEqual(session.metrics().requests, 1000)
    }

    func testASwiftStorePersistsRotatedTokensAndANewSessionIsStillSignedIn() async throws {
        let server = try AuthServer()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("refreshkit-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: url) }
        let first = try await server.login()
        do {
            let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FileTokenStore(url: url))
            try await session.signIn(tokens: first)
            try await server.expireAll()
            let status = try await session.execute(HttpRequest(url: "/api/resource")).status
            XCTAssertEqual(status, 200)
        }
        let saved = try XCTUnwrap(try FileTokenStore(url: url).load())
        XCTAssertNotEqual(saved.refreshToken, first.refreshToken)
        XCTAssertNotNil(saved.idToken, "the answer's other fields are kept by the Swift store")
        XCTAssertEqual(saved.scope, "openid api")
        XCTAssertEqual(saved.tokenType, "Bearer")

        let restarted = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FileTokenStore(url: url))
        let restored = await restarted.restoredState()
        XCTAssertEqual(restored, .active)
        let token = try await restarted.accessToken()
        XCTAssertEqual(token, saved.accessToken)
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 1)
    }

    func testASwiftStoreThatThrowsGivesATypedError() async throws {
        let server = try AuthServer()
        let store = FlakyStore(try await server.login())
        store.failLoad(StoreError.locked)
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: store)
        let restored = await session.restoredState()
        XCTAssertEqual(restored, .locked)

        do {
            _ = try await session.execute(HttpRequest(url: "/api/resource"))
            XCTFail("a locked store must fail the request")
        } catch let error as SessionError {
            guard case .store = error else { return XCTFail("\(error)") }
            XCTAssertTrue(error.isRetryable())
        }

        struct KeychainExploded: Error {}
        store.failLoad(KeychainExploded())
        do {
            _ = try await session.accessToken()
            XCTFail("an unexpected Swift error must still be typed")
        } catch SessionError.store {
        }

        store.failLoad(nil)
        let status = try await session.execute(HttpRequest(url: "/api/resource")).status
        XCTAssertEqual(status, 200)
    }

    func testTheListenerSeesRefreshedExpiredAndSignedOutInOrder() async throws {
        let server = try AuthServer()
        let recorder = Recorder()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), listener: recorder)
        try await session.signIn(tokens: try await server.login())
        try await server.expireAll()
        _ = try await session.execute(HttpRequest(url: "/api/resource"))
        try await server.expireAll()
        try await server.fault(#"{"kind": "invalid_grant"}"#)
        do {
            _ = try await session.execute(HttpRequest(url: "/api/resource"))
            XCTFail("the refresh was rejected")
        } catch let error as SessionError {
            XCTAssertEqual(error, .sessionExpired(reason: .refreshRejected))
            XCTAssertTrue(error.requiresSignIn)
        }
        try await session.signOut()

        let events = try await recorder.wait { $0.contains(.signedOut) }
        let kept = events.filter { if case .refreshFailed = $0 { return false } else { return true } }
        XCTAssertEqual(kept, [.signedIn, .refreshed, .expired(reason: .refreshRejected), .signedOut])
    }

    func testSignOutWithARevocationPathRevokesTheRefreshTokenAtTheAuthServer() async throws {
        let server = try AuthServer()
        let recorder = Recorder()
        var config = SessionConfig(baseUrl: server.baseURL)
        config.revocationPath = "/oauth/revoke"
        let session = try Session(config: config, store: FlakyStore(), listener: recorder)
        try await session.signIn(tokens: try await server.login())

        try await session.signOut()

        XCTAssertEqual(session.state(), .signedOut, "signed out here before the provider is told")
        try await eventually("the auth server to revoke") { try await server.stat("revoked_refresh_tokens") == 1 }
        let revocationRequests = try await server.stat("revocation_requests")
        XCTAssertEqual(revocationRequests, 1)
        let events = try await recorder.wait { $0.contains(.signedOut) }
        XCTAssertEqual(events, [.signedIn, .signedOut], "no revocationFailed")
    }

    func testTheCode1002JsonProtocolWorksFromSwift() async throws {
        let server = try AuthServer()
        let session = try Session(config: recipeConfig(server.baseURL), store: FlakyStore())
        try await session.signIn(tokens: try await server.login())
        try await server.expireAll()

        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 {
                group.addTask { String(decoding: try await session.execute(HttpRequest(url: "/app/resource")).body, as: UTF8.self) }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }

        XCTAssertTrue(bodies.allSatisfy { $0.contains("\"code\":0") }, bodies[0])
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 1)
    }

    func testBadInputFromSwiftGetsTypedErrors() async throws {
        XCTAssertThrowsError(try Session(config: SessionConfig(baseUrl: "http://example.com"), store: FlakyStore())) {
            guard case SessionError.invalidConfig = $0 else { return XCTFail("\($0)") }
        }
        let server = try AuthServer()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore())
        try await session.signIn(tokens: try await server.login())
        for url in ["", "http://[bad", "http://example.com/plain"] {
            do {
                _ = try await session.execute(HttpRequest(url: url))
                XCTFail("\(url) must be refused")
            } catch SessionError.invalidRequest {
            }
        }
    }
}
