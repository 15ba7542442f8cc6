import Foundation
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// A representative part of the fault matrix, from Swift: 100 Tasks wait on a refresh that fails.
final class FaultMatrixTests: XCTestCase {
    /// A session signed in with tokens known to have expired, so every request waits for
    /// the refresh and none races it, with `fault` queued on the refresh endpoint.
    private func expiredSession(fault: String) async throws -> (AuthServer, FlakyStore, Session, Tokens) {
        let server = try AuthServer()
        let store = FlakyStore()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: store)
        var first = try await server.login()
        first.expiresAt = Date().addingTimeInterval(-1)
        try await session.signIn(tokens: first)
        try await server.expireAll()
        try await server.fault(fault)
        return (server, store, session, first)
    }

    private func burst(_ server: AuthServer, _ session: Session) async throws -> [Result<UInt16, Error>] {
        try await withThrowingTaskGroup(of: Result<UInt16, Error>.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    do { return .success(try await session.execute(HttpRequest(url: "/api/resource")).status) } catch { return .failure(error) }
                }
            }
            // Every request waits on the one refresh: none can come late and start another.
            try await eventually("100 requests to wait on the refresh") { session.metrics().waitingForRefresh == 100 }
            try await server.release()
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    func testTransientFaultsFailEveryWaiterRetryablyAndTheNextRequestRecovers() async throws {
        for fault in [#"{"kind": "status", "status": 503, "gated": true}"#, #"{"kind": "drop", "gated": true}"#] {
            let (server, store, session, first) = try await expiredSession(fault: fault)

            let results = try await burst(server, session)

            for result in results {
                guard case .failure(let error as SessionError) = result, case .network = error, error.isRetryable() else {
                    return XCTFail("\(fault): \(result)")
                }
            }
            XCTAssertEqual(store.tokens?.refreshToken, first.refreshToken, "tokens are kept")
            XCTAssertEqual(store.tokens?.accessToken, first.accessToken)
            let status = try await session.execute(HttpRequest(url: "/api/resource")).status
            XCTAssertEqual(status, 200)
        }
    }

    func testInvalidGrantExpiresTheSessionForEveryWaiter() async throws {
        let (server, store, session, _) = try await expiredSession(fault: #"{"kind": "invalid_grant", "gated": true}"#)

        let results = try await burst(server, session)

        for result in results {
            guard case .failure(let error as SessionError) = result, error == .sessionExpired(reason: .refreshRejected) else {
                return XCTFail("\(result)")
            }
        }
        XCTAssertNil(store.tokens)
        XCTAssertEqual(session.state(), .expired)
    }

    func testGarbageFromSwiftGetsTypedErrors() async throws {
        let server = try AuthServer()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore())
        try await session.signIn(tokens: try await server.login())
        for request in [
            HttpRequest(method: "", url: "/api/resource"),
            HttpRequest(url: "/api/resource", headers: [HttpHeader(name: "", value: "x")]),
            HttpRequest(url: "/api/resource", headers: [HttpHeader(name: "X-Bad", value: "a\nb")]),
        ] {
            do {
                _ = try await session.execute(request)
                XCTFail("\(request) must be refused")
            } catch SessionError.invalidRequest {
            }
        }
        let binary = HttpRequest(method: "POST", url: "/echo", body: Data((0...255).map { UInt8($0) }))
        let status = try await session.execute(binary).status
        XCTAssertEqual(status, 200)
    }
}
