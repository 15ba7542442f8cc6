import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// A resource server asking for a step-up login (RFC 9470 `insufficient_user_authentication`,
/// RFC 6750 `insufficient_scope`) is answered with no refresh: `execute` throws
/// `SessionError.stepUpRequired`, `AuthorizedURLSession` returns the answer and
/// `HTTPURLResponse.stepUpChallenge` reads it.
final class StepUpTests: XCTestCase {
    private let strongerLogin = #"Bearer error="insufficient_user_authentication", acr_values="urn:example:mfa", max_age=300"#
    private let moreScope = #"Bearer realm="api", error="insufficient_scope", scope="orders:write""#
    private let mfa = StepUpChallenge(reason: .insufficientUserAuthentication, acrValues: "urn:example:mfa", maxAge: 300, scope: nil)

    /// `/api/challenge`, answering a token it takes with `status` and `challenge` (200 without one).
    private func challengeURL(_ server: AuthServer, status: Int, _ challenge: String?) -> URL {
        var components = URLComponents(string: "\(server.baseURL)/api/challenge")!
        components.queryItems = [URLQueryItem(name: "status", value: "\(status)")]
            + (challenge.map { [URLQueryItem(name: "www_authenticate", value: $0)] } ?? [])
        // URLComponents leaves `+` as it is; the server reads it as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.url!
    }

    private func signedIn(_ server: AuthServer) async throws -> Session {
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore())
        try await session.signIn(tokens: try await server.login())
        return session
    }

    /// Fails when the 401 is taken for an expired token: a refresh, a replay, and no error.
    func testExecuteThrowsStepUpRequiredWithAcrValuesAndMaxAgeAndRefreshesNothing() async throws {
        let server = try AuthServer()
        let session = try await signedIn(server)
        let url = challengeURL(server, status: 401, strongerLogin).absoluteString

        do {
            let response = try await session.execute(HttpRequest(url: url))
            XCTFail("expected stepUpRequired, got \(response.status)")
        } catch SessionError.stepUpRequired(let challenge) {
            XCTAssertEqual(challenge, mfa)
        }

        let refreshes = try await server.stat("refresh_requests")
        let challenged = try await server.stat("step_up_challenges")
        XCTAssertEqual(refreshes, 0)
        XCTAssertEqual(challenged, 1, "sent once")
        XCTAssertEqual(session.state(), .active)
        let next = try await session.execute(HttpRequest(url: "/api/resource"))
        XCTAssertEqual(next.status, 200)
    }

    /// Fails when the layer refreshes for the 401, or sends it again.
    func testAuthorizedURLSessionReturnsAStepUpAnswerUnrefreshedAndStepUpChallengeReadsIt() async throws {
        let server = try AuthServer()
        let client = AuthorizedURLSession(session: try await signedIn(server))

        let (_, stronger) = try await client.data(for: URLRequest(url: challengeURL(server, status: 401, strongerLogin)))
        XCTAssertEqual(stronger.statusCode, 401)
        XCTAssertEqual(stronger.stepUpChallenge, mfa)
        let (_, scoped) = try await client.data(for: URLRequest(url: challengeURL(server, status: 403, moreScope)))
        XCTAssertEqual(scoped.statusCode, 403)
        XCTAssertEqual(scoped.stepUpChallenge, StepUpChallenge(reason: .insufficientScope, acrValues: nil, maxAge: nil, scope: "orders:write"))

        let refreshes = try await server.stat("refresh_requests")
        let challenged = try await server.stat("step_up_challenges")
        XCTAssertEqual(refreshes, 0)
        XCTAssertEqual(challenged, 2, "each sent once")
        let (_, plain) = try await client.data(for: URLRequest(url: URL(string: "\(server.baseURL)/api/resource")!))
        XCTAssertNil(plain.stepUpChallenge)
    }

    /// The other side: fails when every challenge keeps the layer from refreshing.
    func testAuthorizedURLSessionStillRefreshesA401SayingInvalidToken() async throws {
        let server = try AuthServer()
        let client = AuthorizedURLSession(session: try await signedIn(server))
        try await server.expireAll()

        let (_, response) = try await client.data(for: URLRequest(url: challengeURL(server, status: 401, nil)))

        XCTAssertEqual(response.statusCode, 200)
        let refreshes = try await server.stat("refresh_requests")
        XCTAssertEqual(refreshes, 1)
    }
}
