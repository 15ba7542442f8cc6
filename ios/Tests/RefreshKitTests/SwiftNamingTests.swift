import Foundation
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// The Swift spellings of the generated API: `URL`s, `Duration`s, an initializer for DPoP.
final class SwiftNamingTests: XCTestCase {
    func testTheURLAndDurationInitializerGivesTheConfigOfTheMillisecondOne() {
        let url = URL(string: "https://api.example.com")!
        let swifty = SessionConfig(
            baseURL: url, requestTimeout: .milliseconds(2500), refreshTimeout: .seconds(10),
            storeTimeout: .seconds(3), refreshLeeway: .seconds(90), allowInsecureHTTP: true, refreshWindow: .seconds(60)
        )
        let generated = SessionConfig(
            baseUrl: "https://api.example.com", requestTimeoutMs: 2500, refreshTimeoutMs: 10_000, storeTimeoutMs: 3000,
            refreshLeewayMs: 90_000, allowInsecureHttp: true, refreshWindowMs: 60_000
        )
        XCTAssertEqual(swifty, generated)
        XCTAssertEqual(swifty.baseURL, url)
        XCTAssertEqual(swifty.refreshTimeout, .seconds(10))
    }

    func testLeftOutParametersKeepTheCoresDefaults() {
        let url = URL(string: "https://api.example.com")!
        XCTAssertEqual(SessionConfig(baseURL: url), defaultSessionConfig(baseUrl: url.absoluteString))
    }

    func testDurationsAreCountedInWholeMilliseconds() {
        var config = SessionConfig(baseURL: URL(string: "https://api.example.com")!)
        config.requestTimeout = .microseconds(1500)
        XCTAssertEqual(config.requestTimeoutMs, 1)
        config.refreshTimeout = .seconds(Int64.max)
        XCTAssertEqual(config.refreshTimeoutMs, .max, "too long to count is the longest, not a crash")
    }

    func testANegativeTimeoutIsRefusedAsInvalidConfig() {
        let config = SessionConfig(baseURL: URL(string: "https://api.example.com")!, refreshTimeout: .milliseconds(-1))
        XCTAssertThrowsError(try Session(config: config, store: FlakyStore())) { error in
            guard case SessionError.invalidConfig(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("refresh_timeout_ms"), detail)
        }
    }

    func testARequestToAURLGoesOutWithTheToken() async throws {
        let server = try AuthServer()
        let base = URL(string: server.baseURL)!
        let session = try Session(config: SessionConfig(baseURL: base), store: FlakyStore())
        try await session.signIn(tokens: try await server.login())
        let resource = base.appendingPathComponent("api/resource")

        XCTAssertTrue(session.mayReceiveToken(resource))
        XCTAssertFalse(session.mayReceiveToken(URL(string: "https://elsewhere.example.com/api")!))
        let answer = try await session.execute(HttpRequest(url: resource, timeout: .seconds(5)))
        XCTAssertEqual(answer.status, 200, "the token went with the request")
        let token = try await session.accessToken()
        // Compared, never printed: a failure message must not carry the token.
        let bearer = HttpHeader(name: session.tokenHeaderName(), value: "Bearer \(token)")
        XCTAssertTrue(session.tokenHeader(for: resource, accessToken: token) == bearer, "the URL's header")
        XCTAssertNil(session.tokenHeader(for: URL(string: "https://elsewhere.example.com/api")!, accessToken: token))
        let headers = try await session.tokenHeaders(method: "GET", url: resource, accessToken: token)
        XCTAssertTrue(headers == [bearer], "the URL's headers")
    }
}
