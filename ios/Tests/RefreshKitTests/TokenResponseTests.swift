import Foundation
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// `Tokens(tokenResponse:)`: the core's parser for a token endpoint's answer.
final class TokenResponseTests: XCTestCase {
    func testALoginAnswerBecomesTokensWhoseExpiryCountsFromReceiptAndSignsIn() async throws {
        let server = try AuthServer()
        let answer = try await server.loginAnswer()
        let json = try JSONSerialization.jsonObject(with: answer) as! [String: Any]
        let lifetime = TimeInterval(json["expires_in"] as! Int)

        let before = Date()
        let tokens = try Tokens(tokenResponse: answer)
        let after = Date()

        let expiresAt = try XCTUnwrap(tokens.expiresAt)
        XCTAssertGreaterThanOrEqual(expiresAt, before.addingTimeInterval(lifetime - 0.001))
        XCTAssertLessThanOrEqual(expiresAt, after.addingTimeInterval(lifetime + 0.001))
        XCTAssertEqual(tokens.refreshToken, json["refresh_token"] as? String)
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore())
        try await session.signIn(tokens: tokens)
        let status = try await session.execute(HttpRequest(url: "/api/resource")).status
        XCTAssertEqual(status, 200)
    }

    func testAnAnswerThatIsNotATokenResponseThrowsInvalidResponseWithoutTheToken() {
        for body in ["<html>", #"{"error":"invalid_grant"}"#, #"{"access_token":"secret token"}"#] {
            XCTAssertThrowsError(try Tokens(tokenResponse: Data(body.utf8))) { error in
                guard case SessionError.invalidResponse = error else { return XCTFail("\(error)") }
                XCTAssertFalse("\(error)".contains("secret"))
            }
        }
    }
}
