import Foundation
import RefreshKit
import XCTest

/// `Tokens: Codable`: the JSON the Swift stores write, and what apps may keep themselves.
final class TokensCodableTests: XCTestCase {
    private let full = Tokens(
        accessToken: "access-1", refreshToken: "refresh-1", expiresAt: Date(timeIntervalSince1970: 1_767_225_600.123),
        idToken: "id-1", scope: "openid profile", tokenType: "DPoP"
    )

    func testARoundTripKeepsEveryField() throws {
        let decoded = try JSONDecoder().decode(Tokens.self, from: try JSONEncoder().encode(full))
        XCTAssertEqual(decoded, full)
        XCTAssertEqual(decoded.expiresAt, full.expiresAt, "the expiry keeps its millisecond")
    }

    func testARoundTripOfOnlyAnAccessTokenKeepsTheOthersNil() throws {
        let bare = Tokens(accessToken: "access-1")
        let data = try JSONEncoder().encode(bare)
        XCTAssertEqual(try JSONSerialization.jsonObject(with: data) as? [String: String], ["accessToken": "access-1"], "nil fields are left out")
        XCTAssertEqual(try JSONDecoder().decode(Tokens.self, from: data), bare)
    }

    func testTheJSONShapeIsTheOneTheStoresHaveAlwaysWritten() throws {
        let stored = #"{"accessToken":"access-1","refreshToken":"refresh-1","expiresAtMs":1767225600123,"idToken":"id-1","scope":"openid profile","tokenType":"DPoP","unknown":true}"#
        XCTAssertEqual(try JSONDecoder().decode(Tokens.self, from: Data(stored.utf8)), full)
        let written = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(full)) as? NSDictionary
        XCTAssertEqual(written, [
            "accessToken": "access-1", "refreshToken": "refresh-1", "expiresAtMs": 1_767_225_600_123,
            "idToken": "id-1", "scope": "openid profile", "tokenType": "DPoP",
        ] as NSDictionary)
    }

    func testMalformedJSONThrowsADecodingError() {
        let cases: [(String, String)] = [
            ("not JSON", "not json"),
            ("no access token", #"{"refreshToken":"refresh-secret"}"#),
            ("an empty access token", #"{"accessToken":"","refreshToken":"refresh-secret"}"#),
            ("a number for the access token", #"{"accessToken":5}"#),
            ("text for the expiry", #"{"accessToken":"access-secret","expiresAtMs":"soon"}"#),
            ("an array", #"["access-secret"]"#),
        ]
        for (what, json) in cases {
            XCTAssertThrowsError(try JSONDecoder().decode(Tokens.self, from: Data(json.utf8)), what) { error in
                XCTAssertTrue(error is DecodingError, "\(what): \(type(of: error))")
                let text = "\(error) \(String(reflecting: error))"
                XCTAssertFalse(text.contains("secret"), "\(what): the error carries a token: \(text)")
            }
        }
    }
}
