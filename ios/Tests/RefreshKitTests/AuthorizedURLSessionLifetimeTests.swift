import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// What an `AuthorizedURLSession` keeps after its requests, and which URLSessions it takes.
final class AuthorizedURLSessionLifetimeTests: XCTestCase {
    private final class Weak<T: AnyObject> {
        weak var value: T?
        init(_ value: T) { self.value = value }
    }

    func testTheSessionIsReleasedAfterRequestsThatCarriedTheTokenComplete() async throws {
        let server = try AuthServer()
        let hops = try HopServer()
        let released = try await useAndDrop(server, hops)
        // Each request's redirect delegate (TokenHops) holds the session: it is released
        // only when every completed request let its delegate go.
        try await eventually("the session and its requests' delegates to be released", within: 10) {
            released.value == nil
        }
    }

    func testABackgroundURLSessionIsRefusedWhenTheClientIsMade() async throws {
        let server = try AuthServer()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore())
        #if canImport(FoundationNetworking)
        // FoundationNetworking has no background(withIdentifier:); the identifier is what
        // marks a background configuration, and there it can be set.
        let configuration = URLSessionConfiguration.default
        configuration.identifier = "dev.refreshkit.tests.background"
        #else
        let configuration = URLSessionConfiguration.background(withIdentifier: "dev.refreshkit.tests.background")
        #endif
        let background = URLSession(configuration: configuration)
        XCTAssertThrowsError(try AuthorizedURLSession(session: session, urlSession: background)) { error in
            guard case SessionError.invalidConfig(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("background"), detail)
        }
        let ephemeral = URLSession(configuration: .ephemeral)
        XCTAssertNoThrow(try AuthorizedURLSession(session: session, urlSession: ephemeral))
    }

    /// A session used for requests that carried the token (one answered 401 and was sent
    /// again after a refresh, one followed a redirect), then dropped with its client.
    private func useAndDrop(_ server: AuthServer, _ hops: HopServer) async throws -> Weak<Session> {
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore())
        try await session.signIn(tokens: try await server.login())
        let client = AuthorizedURLSession(session: session)
        let url = URL(string: "\(server.baseURL)/api/resource")!
        var statuses: [Int] = []
        for _ in 0..<3 { statuses.append(try await client.data(for: URLRequest(url: url)).1.statusCode) }
        try await server.expireAll()
        statuses.append(try await client.data(for: URLRequest(url: url)).1.statusCode)
        var redirect = URLComponents(string: "http://127.0.0.1:\(hops.port)/redirect")!
        redirect.queryItems = [URLQueryItem(name: "status", value: "302"), URLQueryItem(name: "to", value: "http://127.0.0.1:\(hops.port)/echo")]
        statuses.append(try await client.data(for: URLRequest(url: redirect.url!)).1.statusCode)
        XCTAssertEqual(statuses, [200, 200, 200, 200, 200])
        return Weak(session)
    }
}
