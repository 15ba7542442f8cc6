import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// DPoP-bound Swift sessions against panva's oidc-provider (tests/oidc/provider.mjs),
/// which scripts/test-swift.sh starts on the host and names in REFRESHKIT_OIDC_ISSUER:
/// sign-in through the real front channel and code exchange (PKCE, the session's proof,
/// the nonce the provider asks for), then userinfo (`/me`) and refreshes at `/token`.
/// The provider is shared by the tests: they compare its stats before and after.
final class OidcProviderDpopTests: XCTestCase {
    private let concurrent = 20

    func testTheSha256ForPkceMatchesKnownVectors() {
        XCTAssertEqual(hex(sha256(Data("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(sha256(Data())), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let twoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        XCTAssertEqual(hex(sha256(Data(twoBlocks.utf8))), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // The S256 challenge's form: base64url without padding.
        XCTAssertEqual(base64url(sha256(Data("abc".utf8))), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0")
        let million = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        XCTAssertEqual(hex(sha256(million)), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testADpopSessionSignedInAtOidcProviderIsServedAndAnExpiredTokenGivesOneRefreshForConcurrentCalls() async throws {
        guard let provider = try requireProvider() else { return }
        let (session, first) = try await signedIn(provider)
        let me = try await session.execute(request: HttpRequest(url: "/me"))
        XCTAssertEqual(me.status, 200, "userinfo refused the session's request")
        XCTAssertEqual(try subject(me.body), "alice")

        try await provider.expire(first.accessToken)
        let before = try await provider.stats()
        let statuses = try await withThrowingTaskGroup(of: UInt16.self) { group in
            for _ in 0..<concurrent {
                group.addTask { try await session.execute(request: HttpRequest(url: "/me")).status }
            }
            return try await group.reduce(into: [UInt16]()) { $0.append($1) }
        }

        XCTAssertEqual(statuses, Array(repeating: 200, count: concurrent))
        let changed = since(before, try await provider.stats())
        XCTAssertEqual(changed["token refresh_token 200"], 1, "exactly one refresh: \(changed)")
        XCTAssertEqual(changed["userinfo 200"], concurrent, "\(changed)")
        let expected: Set = ["token refresh_token 200", "userinfo 200", "userinfo 401 invalid_token"]
        XCTAssertTrue(Set(changed.keys).isSubset(of: expected), "no refused proof, no failed refresh: \(changed)")
        XCTAssertEqual(session.metrics().refreshes, 1)
    }

    func testAnAuthorizedURLSessionOverADpopSessionAtOidcProviderIsServedAndRefreshesOnceForConcurrentCalls() async throws {
        guard let provider = try requireProvider() else { return }
        let (session, first) = try await signedIn(provider)
        let client = AuthorizedURLSession(session: session)
        let me = URLRequest(url: URL(string: provider.url("/me"))!)
        let (body, response) = try await client.data(for: me)
        XCTAssertEqual(response.statusCode, 200, "userinfo refused the layer's request")
        XCTAssertEqual(try subject(body), "alice")

        try await provider.expire(first.accessToken)
        let before = try await provider.stats()
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<concurrent {
                group.addTask { try await client.data(for: me).1.statusCode }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }

        XCTAssertEqual(statuses, Array(repeating: 200, count: concurrent))
        let changed = since(before, try await provider.stats())
        XCTAssertEqual(changed["token refresh_token 200"], 1, "exactly one refresh: \(changed)")
        XCTAssertEqual(changed["userinfo 200"], concurrent, "\(changed)")
        // The layer learns the nonce from userinfo's answers, so a 401 use_dpop_nonce may
        // come (and is answered with a new proof) as well as the expired token's 401s.
        let expected: Set = ["token refresh_token 200", "userinfo 200", "userinfo 401 invalid_token", "userinfo 401 use_dpop_nonce"]
        XCTAssertTrue(Set(changed.keys).isSubset(of: expected), "no refused proof, no failed refresh: \(changed)")
        XCTAssertEqual(session.metrics().refreshes, 1)
    }

    // MARK: helpers

    /// The provider scripts/test-swift.sh started; a failure when there is none, unless
    /// REFRESHKIT_SKIP_OIDC=1 says to skip these tests.
    private func requireProvider() throws -> OidcProvider? {
        if let provider = OidcProvider.fromEnvironment() { return provider }
        if ProcessInfo.processInfo.environment["REFRESHKIT_SKIP_OIDC"] == "1" {
            throw XCTSkip("REFRESHKIT_SKIP_OIDC=1: the tests against oidc-provider are skipped")
        }
        XCTFail("REFRESHKIT_OIDC_ISSUER is not set: run scripts/test-swift.sh on a host with Node.js (it starts tests/oidc/provider.mjs), or set REFRESHKIT_SKIP_OIDC=1 to skip")
        return nil
    }

    /// A DPoP session signed in as `alice` through the provider's front channel and code
    /// exchange, and the tokens it signed in with.
    private func signedIn(_ provider: OidcProvider) async throws -> (Session, Tokens) {
        let session = try Session.withDpop(config: provider.config(), store: FlakyStore(), dpopKey: softwareDpopKey())
        let before = try await provider.stats()
        let tokens = try await provider.logIn(session)
        XCTAssertEqual(tokens.tokenType, "DPoP", "the provider bound the tokens to the key")
        XCTAssertNotNil(tokens.refreshToken, "offline_access gave a refresh token")
        let after = try await provider.stats()
        XCTAssertEqual(
            since(before, after),
            ["token authorization_code 400 use_dpop_nonce": 1, "token authorization_code 200": 1],
            "the code exchange was asked for a nonce once and sent again with it"
        )
        try await session.signIn(tokens: tokens)
        return (session, tokens)
    }

    private func subject(_ body: Data) throws -> String? {
        (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["sub"] as? String
    }

    /// The counts that changed since `before`.
    private func since(_ before: [String: Int], _ after: [String: Int]) -> [String: Int] {
        after.compactMapValues { $0 }.reduce(into: [:]) { changed, entry in
            let delta = entry.value - (before[entry.key] ?? 0)
            if delta > 0 { changed[entry.key] = delta }
        }
    }

    private func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }
}
