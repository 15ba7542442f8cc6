import Foundation
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// DPoP through the bindings against `auth-server --dpop-nonce`, which checks every proof.
final class DpopTests: XCTestCase {
    private let resource = HttpRequest(url: "/api/resource")

    func testWithTheSoftwareKeyABurstAcrossAnExpiryGivesOneRefreshAndNoRefusedProof() async throws {
        let server = try AuthServer(["--dpop-nonce"])
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), dpopKey: softwareDpopKey())
        let tokens = try await login(server, session)
        XCTAssertEqual(tokens.tokenType, "DPoP", "the server bound the tokens to the key")
        try await session.signIn(tokens: tokens)
        try await server.expireAll()

        let statuses = try await withThrowingTaskGroup(of: UInt16.self) { group in
            for _ in 0..<200 {
                group.addTask { try await session.execute(HttpRequest(url: "/api/resource")).status }
            }
            return try await group.reduce(into: [UInt16]()) { $0.append($1) }
        }

        XCTAssertEqual(statuses, Array(repeating: 200, count: 200))
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 1)
        let refused = try await server.stat("dpop_refused")
        XCTAssertEqual(refused, 0, "no proof was refused")
    }

    func testAKeyThatIsGoneEndsTheSessionAsExpiredWithDpopKeyGone() async throws {
        let server = try AuthServer(["--dpop-nonce"])
        let key = RecordingDpopKey(softwareDpopKey())
        let store = FlakyStore()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: store, dpopKey: key)
        try await session.signIn(tokens: try await login(server, session))
        let status = try await session.execute(resource).status
        XCTAssertEqual(status, 200)

        key.makeGone()

        let error = await failure { _ = try await session.execute(self.resource) }
        XCTAssertEqual(error, .sessionExpired(reason: .dpopKeyGone))
        XCTAssertEqual(session.state(), .expired)
        XCTAssertNil(store.tokens, "the tokens bound to the lost key are cleared")
    }

    func testErrorsAndTheirTextNeverCarryAProofOrKeyMaterial() async throws {
        let server = try AuthServer(["--dpop-nonce"])
        let key = RecordingDpopKey(softwareDpopKey())
        let session = try Session.withDpop(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), dpopKey: key)
        try await session.signIn(tokens: try await login(server, session))
        _ = try await session.execute(resource)

        key.fail("secure hardware busy")
        let failed = await failure { _ = try await session.execute(self.resource) }
        key.fail(nil)
        key.makeGone()
        let expired = await failure { _ = try await session.execute(self.resource) }

        let jwk = try JSONSerialization.jsonObject(with: Data(try key.publicJwk().utf8)) as! [String: String]
        let secrets = key.signed + [jwk["x"]!, jwk["y"]!]
        for error in [failed, expired].compactMap({ $0 }) {
            for text in [error.message, error.localizedDescription, String(describing: error), String(reflecting: error)] {
                XCTAssertFalse(secrets.contains { text.contains($0) }, "an error's text carries a proof or the key: \(text)")
            }
        }
        XCTAssertEqual(failed, .dpopKey(detail: "secure hardware busy"), "the key's own words reach the app")
        XCTAssertEqual(expired, .sessionExpired(reason: .dpopKeyGone))
    }

    /// The app's own login call, bound to the session's key.
    private func login(_ server: AuthServer, _ session: Session) async throws -> Tokens {
        try await server.loginWithProof { nonce in
            try await session.dpopProof(method: "POST", url: server.baseURL + "/login", nonce: nonce)
        }
    }

    /// The `SessionError` that `body` threw (a test failure when it returned or threw another error).
    private func failure(_ body: @escaping () async throws -> Void) async -> SessionError? {
        do {
            try await body()
            XCTFail("expected a SessionError")
        } catch let error as SessionError {
            return error
        } catch {
            XCTFail("expected a SessionError, got \(error)")
        }
        return nil
    }
}
