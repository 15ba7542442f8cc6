import RefreshKit
import RefreshKitTestSupport
import XCTest

final class ErrorTextTests: XCTestCase {
    func testLocalizedDescriptionSaysTheCoresDisplayText() {
        XCTAssertEqual(SessionError.network(detail: "connection refused").localizedDescription,
                       "network error: connection refused")
        XCTAssertEqual(SessionError.sessionExpired(reason: .refreshRejected).localizedDescription,
                       "session expired: the refresh token was rejected")
        XCTAssertEqual("\(SessionError.responseTooLarge(limitBytes: 10))", "the response is larger than 10 bytes")
    }

    func testAnErrorFromTheCoreReadsAsASentence() throws {
        XCTAssertThrowsError(try Session(config: SessionConfig(baseUrl: "http://api.example.com"), store: FlakyStore())) {
            XCTAssertTrue($0.localizedDescription.hasPrefix("invalid configuration: "), $0.localizedDescription)
        }
    }
}
