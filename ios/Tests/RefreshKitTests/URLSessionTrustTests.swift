import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// AuthorizedURLSession keeps the core's promises: the token goes only where
/// `tokenHeaderFor` allows, on every hop, and only answers to it mean "expired".
final class URLSessionTrustTests: XCTestCase {
    private let redirectStatuses = [301, 302, 303, 307, 308]

    func testRedirectsToAnotherHostNeverCarryTheTokenInAnyHeader() async throws {
        for (name, scheme) in [("Authorization", "Bearer"), ("X-Auth-Token", "")] {
            let hops = try HopServer()
            let (client, token) = try await signedIn { $0.headerName = name; $0.headerScheme = scheme }
            for status in redirectStatuses {
                let to = "http://localhost:\(hops.port)/echo"
                let (_, response) = try await client.data(for: URLRequest(url: redirect(hops, status, to)))
                XCTAssertEqual(response.statusCode, 200, "\(status)")
            }
            let value = scheme.isEmpty ? token : "\(scheme) \(token)"
            let first = hops.requests.filter { $0.path == "/redirect" }
            let last = hops.requests.filter { $0.path == "/echo" }
            // Compared as booleans, so a failure prints no token.
            XCTAssertEqual(first.map { $0.headers[name.lowercased()] == value }, Array(repeating: true, count: 5), name)
            XCTAssertEqual(last.count, 5, name)
            for hop in last {
                XCTAssertFalse(hop.headers.values.contains { $0.contains(token) }, "\(name) reached another host")
            }
        }
    }

    func testRedirectsWithinTheTokenHostsKeepTheToken() async throws {
        for (name, scheme) in [("Authorization", "Bearer"), ("X-Auth-Token", "")] {
            let hops = try HopServer()
            let (client, token) = try await signedIn { $0.headerName = name; $0.headerScheme = scheme }
            for status in redirectStatuses {
                let to = "http://127.0.0.1:\(hops.port)/echo"
                _ = try await client.data(for: URLRequest(url: redirect(hops, status, to)))
            }
            let value = scheme.isEmpty ? token : "\(scheme) \(token)"
            let last = hops.requests.filter { $0.path == "/echo" }
            XCTAssertEqual(last.map { $0.headers[name.lowercased()] == value }, Array(repeating: true, count: 5), name)
        }
    }

    func testPlainHttpOffLoopbackGetsNoTokenEvenToATokenHost() async throws {
        guard let ip = HopServer.nonLoopbackIPv4() else { throw XCTSkip("no non-loopback IPv4 address here") }
        let hops = try HopServer()
        let (client, token) = try await signedIn { $0.tokenHosts = [ip] }
        _ = try await client.data(for: URLRequest(url: URL(string: "http://\(ip):\(hops.port)/echo")!))
        _ = try await client.data(for: URLRequest(url: redirect(hops, 307, "http://\(ip):\(hops.port)/echo")))

        let plain = hops.requests.filter { $0.path == "/echo" }
        XCTAssertEqual(plain.count, 2)
        XCTAssertFalse(plain.contains { $0.headers.values.contains { $0.contains(token) } }, "token sent over plain http")
    }

    func testA401FromARedirectTargetOutsideTheTokenHostsRefreshesNothing() async throws {
        let hops = try HopServer()
        let server = try AuthServer()
        let (client, _) = try await signedIn(server)
        for _ in 0..<25 {
            let (_, response) = try await client.data(for: URLRequest(url: redirect(hops, 302, "http://localhost:\(hops.port)/status/401")))
            XCTAssertEqual(response.statusCode, 401)
        }
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 0)
    }

    func testTheBodyRuleMeansExpiredOnlyForAnswersToTheToken() async throws {
        let hops = try HopServer()
        let server = try AuthServer()
        let (client, _) = try await signedIn(server, recipe: true)
        try await server.expireAll()

        let (data, response) = try await client.data(for: URLRequest(url: URL(string: "\(server.baseURL)/app/resource")!))
        XCTAssertEqual(response.statusCode, 200)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains(#""code":0"#), "replayed after one refresh")
        let (other, _) = try await client.data(for: URLRequest(url: redirect(hops, 302, "http://localhost:\(hops.port)/code1002")))
        XCTAssertTrue(String(decoding: other, as: UTF8.self).contains("1002"), "another host's answer is returned as it is")

        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 1)
    }

    func testCancellingTheTaskCancelsItsDataTask() async throws {
        let hops = try HopServer()
        let (client, _) = try await signedIn()
        let call = Task { try await client.data(for: URLRequest(url: URL(string: "http://127.0.0.1:\(hops.port)/hang")!)) }
        let arrived = await hops.wait { $0.requests.contains { $0.path == "/hang" } }
        XCTAssertTrue(arrived)
        call.cancel()

        let closed = await hops.wait { $0.abandonedHangs == 1 }
        XCTAssertTrue(closed, "the connection stayed open after the Task was cancelled")
        let outcome = await call.result
        guard case .failure(let error) = outcome, error is CancellationError else {
            return XCTFail("expected CancellationError, got \(outcome)")
        }
    }

    func testAStreamedBodyIsNotSentAgainAfterA401() async throws {
        let server = try AuthServer()
        let (client, _) = try await signedIn(server)
        try await server.expireAll()
        func streamed() -> URLRequest {
            var request = URLRequest(url: URL(string: "\(server.baseURL)/api/resource")!)
            request.httpMethod = "POST"
            request.httpBodyStream = InputStream(data: Data("{}".utf8))
            return request
        }

        let (_, response) = try await client.data(for: streamed())
        XCTAssertEqual(response.statusCode, 401, "a stream cannot be replayed: the 401 is the answer")
        let rejected = try await server.stat("rejected")
        XCTAssertEqual(rejected, 1)
        let (_, next) = try await client.data(for: streamed())
        XCTAssertEqual(next.statusCode, 200, "the rejected token was replaced for the next call")
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 1)
    }

    func testTheAppsOwnAuthorizationHeaderReachesOtherHosts() async throws {
        let hops = try HopServer()
        let (client, token) = try await signedIn()
        var request = URLRequest(url: URL(string: "http://localhost:\(hops.port)/echo")!)
        request.setValue("Basic app-credential", forHTTPHeaderField: "Authorization")

        _ = try await client.data(for: request)

        let seen = hops.requests.first { $0.path == "/echo" }
        XCTAssertEqual(seen?.headers["authorization"], "Basic app-credential")
        XCTAssertFalse(seen?.headers.values.contains { $0.contains(token) } ?? true)
    }

    // MARK: helpers

    private func redirect(_ hops: HopServer, _ status: Int, _ to: String) -> URL {
        var url = URLComponents(string: "http://127.0.0.1:\(hops.port)/redirect")!
        url.queryItems = [URLQueryItem(name: "status", value: "\(status)"), URLQueryItem(name: "to", value: to)]
        return url.url!
    }

    private var servers: [AuthServer] = []

    private func signedIn(
        _ given: AuthServer? = nil, recipe: Bool = false, _ configure: (inout SessionConfig) -> Void = { _ in }
    ) async throws -> (AuthorizedURLSession, String) {
        let server = try given ?? AuthServer()
        servers.append(server)
        var config = recipe ? recipeConfig(server.baseURL) : SessionConfig(baseUrl: server.baseURL)
        configure(&config)
        let session = try Session(config: config, store: FlakyStore())
        let tokens = try await server.login()
        try await session.signIn(tokens: tokens)
        return (authorizedClient(session, config), tokens.accessToken)
    }
}

/// How the tests build the client: the session's config decides hosts, header and expiry.
func authorizedClient(_ session: Session, _ config: SessionConfig) -> AuthorizedURLSession {
    AuthorizedURLSession(session: session)
}
