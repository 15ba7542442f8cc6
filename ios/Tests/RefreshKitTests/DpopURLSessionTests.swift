import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// AuthorizedURLSession with DPoP-bound tokens against `auth-server --dpop-nonce`, which
/// checks every proof (signature, method, URL, token hash, nonce, replay).
final class DpopURLSessionTests: XCTestCase {
    private let redirectStatuses = [301, 302, 303, 307, 308]

    func testADpopBoundSessionsRequestsThroughTheLayerAreServedWithAValidProofEach() async throws {
        let server = try AuthServer(["--dpop-nonce"])
        let (client, _) = try await boundClient(server)

        for method in ["GET", "POST", "GET", "POST", "GET"] {
            var request = URLRequest(url: URL(string: "\(server.baseURL)/api/resource")!)
            request.httpMethod = method
            if method == "POST" { request.httpBody = Data("{}".utf8) }
            let (_, response) = try await client.data(for: request)
            XCTAssertEqual(response.statusCode, 200, method)
        }

        let served = try await server.stat("served")
        XCTAssertEqual(served, 5)
        let refused = try await server.stat("dpop_refused")
        XCTAssertEqual(refused, 0, "no proof was refused (nor replayed)")
        let refreshRequests = try await server.stat("refresh_requests")
        XCTAssertEqual(refreshRequests, 0)
    }

    func testARotatedNonceMakesOneMoreSendWithANewProofAndNoRefresh() async throws {
        let server = try AuthServer(["--dpop-nonce"])
        let (client, _) = try await boundClient(server)
        let url = URL(string: "\(server.baseURL)/api/resource")!
        _ = try await client.data(for: URLRequest(url: url))
        let challengedBefore = try await server.stat("nonce_challenges")

        for round in 1...3 {
            try await server.rotateNonce()
            let (_, response) = try await client.data(for: URLRequest(url: url))
            XCTAssertEqual(response.statusCode, 200, "round \(round)")
        }

        let challenged = try await server.stat("nonce_challenges")
        XCTAssertEqual(challenged - challengedBefore, 3, "one refused proof per new nonce, then the new proof")
        let served = try await server.stat("served")
        XCTAssertEqual(served, 4)
        let refreshRequests = try await server.stat("refresh_requests")
        XCTAssertEqual(refreshRequests, 0, "a refused proof is not an expired token")
        let refused = try await server.stat("dpop_refused")
        XCTAssertEqual(refused, 0)
    }

    func testAnExpiredDpopTokenThroughTheLayerRefreshesOnceForManyConcurrentCallsAndAllAreServed() async throws {
        let server = try AuthServer(["--dpop-nonce"])
        let (client, _) = try await boundClient(server)
        try await server.expireAll()
        let url = URL(string: "\(server.baseURL)/api/resource")!

        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<100 {
                group.addTask { try await client.data(for: URLRequest(url: url)).1.statusCode }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }

        XCTAssertEqual(statuses, Array(repeating: 200, count: 100))
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 1)
        let refused = try await server.stat("dpop_refused")
        XCTAssertEqual(refused, 0)
    }

    func testARedirectWithinTheTokenHostGetsAFreshProofForTheNewURLAndMethod() async throws {
        let server = try AuthServer(["--dpop-nonce"])
        let (client, _) = try await boundClient(server)
        let target = "\(server.baseURL)/api/resource"

        for status in redirectStatuses {
            for method in ["GET", "POST"] {
                // 301/302/303 turn the POST into a GET: the proof must name the new method.
                var request = URLRequest(url: redirect(server.baseURL, status, target))
                request.httpMethod = method
                let (_, response) = try await client.data(for: request)
                XCTAssertEqual(response.statusCode, 200, "\(method) \(status)")
            }
        }

        let served = try await server.stat("served")
        XCTAssertEqual(served, 10, "the server accepted every hop's proof")
        let refused = try await server.stat("dpop_refused")
        XCTAssertEqual(refused, 0)
    }

    func testARedirectToAHostThatMayNotReceiveTheTokenCarriesNeitherAuthorizationNorDpop() async throws {
        let server = try AuthServer(["--dpop-nonce"])
        let hops = try HopServer()
        let (client, token) = try await boundClient(server)

        for status in redirectStatuses {
            let to = "http://localhost:\(hops.port)/echo"
            let (_, response) = try await client.data(for: URLRequest(url: redirect("http://127.0.0.1:\(hops.port)", status, to)))
            XCTAssertEqual(response.statusCode, 200, "\(status)")
        }

        let first = hops.requests.filter { $0.path == "/redirect" }
        let last = hops.requests.filter { $0.path == "/echo" }
        // Compared as booleans, so a failure prints no token.
        XCTAssertEqual(first.map { $0.headers["authorization"] == "DPoP \(token)" }, Array(repeating: true, count: 5))
        XCTAssertEqual(first.map { $0.headers["dpop"] != nil }, Array(repeating: true, count: 5))
        XCTAssertEqual(last.count, 5)
        XCTAssertEqual(last.map { $0.headers["authorization"] == nil }, Array(repeating: true, count: 5), "Authorization reached another host")
        XCTAssertEqual(last.map { $0.headers["dpop"] == nil }, Array(repeating: true, count: 5), "a proof reached another host")
        XCTAssertFalse(last.contains { $0.headers.values.contains { $0.contains(token) } }, "the token reached another host")
    }

    func testAHopWhoseProofCannotBeMadeEndsTheCallWithTheKeysErrorAndIsNotFollowed() async throws {
        let server = try AuthServer(["--dpop-nonce"])
        let hops = try HopServer()
        let key = ScriptedKey(softwareDpopKey())
        let (client, _) = try await boundClient(server, key: key)
        key.fail(after: key.signs + 1, "secure hardware busy")

        do {
            _ = try await client.data(for: URLRequest(url: redirect("http://127.0.0.1:\(hops.port)", 307, "http://127.0.0.1:\(hops.port)/echo")))
            XCTFail("expected the key's error")
        } catch let error as SessionError {
            XCTAssertEqual(error, .dpopKey(detail: "secure hardware busy"))
        }
        XCTAssertEqual(hops.requests.map(\.path), ["/redirect"], "the hop without headers was not sent")
    }

    func testCancellingWhileARedirectWaitsForItsProofCancelsTheTaskAndTheHopIsNeverSent() async throws {
        let server = try AuthServer(["--dpop-nonce"])
        let hops = try HopServer()
        let key = ScriptedKey(softwareDpopKey())
        let (client, _) = try await boundClient(server, key: key)
        key.hold(after: key.signs + 1)
        let hop = redirect("http://127.0.0.1:\(hops.port)", 307, "http://127.0.0.1:\(hops.port)/echo")

        let call = Task { try await client.data(for: URLRequest(url: hop)) }
        try await eventually("the hop's proof to wait for the key") { key.isHolding }
        call.cancel()
        let outcome = await call.result
        guard case .failure(let error) = outcome, error is CancellationError else {
            return XCTFail("expected CancellationError, got \(outcome)")
        }

        // The proof comes after the cancel: the task must not be told to follow the hop
        // (FoundationNetworking stops the process when it is).
        key.release()
        try await eventually("the held proof to be made") { key.made == key.signs }
        let (_, response) = try await client.data(for: URLRequest(url: URL(string: "http://127.0.0.1:\(hops.port)/echo")!))
        XCTAssertEqual(response.statusCode, 200)
        XCTAssertEqual(hops.requests.map(\.path), ["/redirect", "/echo"], "only the later request reached /echo")
    }

    // MARK: helpers

    private func redirect(_ base: String, _ status: Int, _ to: String) -> URL {
        var url = URLComponents(string: "\(base)/redirect")!
        url.queryItems = [URLQueryItem(name: "status", value: "\(status)"), URLQueryItem(name: "to", value: to)]
        return url.url!
    }

    /// A client of a session signed in with tokens bound to `key`, and its access token.
    private func boundClient(_ server: AuthServer, key: DpopKey = softwareDpopKey()) async throws -> (AuthorizedURLSession, String) {
        let session = try Session.withDpop(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), dpopKey: key)
        let tokens = try await server.loginWithProof { nonce in
            try await session.dpopProof(method: "POST", url: server.baseURL + "/login", nonce: nonce)
        }
        XCTAssertEqual(tokens.tokenType, "DPoP", "the server bound the tokens to the key")
        try await session.signIn(tokens: tokens)
        let lease = try await session.accessTokenLease()
        XCTAssertTrue(lease.needsProof)
        return (AuthorizedURLSession(session: session), lease.accessToken)
    }
}

/// A key that signs, and from a given signature on fails (`fail`) or waits to be
/// released (`hold`).
private final class ScriptedKey: DpopKey, @unchecked Sendable {
    private let inner: DpopKey
    private let condition = NSCondition()
    private var count = 0
    private var failing: (after: Int, detail: String)?
    private var holdingAfter: Int?
    private var waiting = false
    private var returned = 0

    init(_ inner: DpopKey) { self.inner = inner }

    /// Signatures asked for so far.
    var signs: Int { condition.lock(); defer { condition.unlock() }; return count }
    /// Signatures made (or failed) so far.
    var made: Int { condition.lock(); defer { condition.unlock() }; return returned }
    /// Whether a signature waits for `release`.
    var isHolding: Bool { condition.lock(); defer { condition.unlock() }; return waiting }

    func fail(after signs: Int, _ detail: String) { condition.lock(); failing = (signs, detail); condition.unlock() }
    func hold(after signs: Int) { condition.lock(); holdingAfter = signs; condition.unlock() }
    func release() { condition.lock(); holdingAfter = nil; condition.broadcast(); condition.unlock() }

    func publicJwk() throws -> String { try inner.publicJwk() }

    func sign(message: Data) throws -> Data {
        condition.lock()
        count += 1
        let number = count
        while let after = holdingAfter, number > after {
            waiting = true
            condition.wait()
        }
        waiting = false
        let failure = failing.flatMap { number > $0.after ? $0.detail : nil }
        condition.unlock()
        defer { condition.lock(); returned += 1; condition.unlock() }
        if let failure { throw DpopKeyError.failed(detail: failure) }
        return try inner.sign(message: message)
    }
}
