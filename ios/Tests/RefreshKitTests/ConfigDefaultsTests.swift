import RefreshKit
import XCTest

/// The generated `SessionConfig(baseUrl:)` carries defaults written in the Rust
/// attributes; Rust's `SessionConfig::new` writes them again. They must agree.
final class ConfigDefaultsTests: XCTestCase {
    func testTheGeneratedDefaultsAreTheCoresDefaults() {
        XCTAssertEqual(SessionConfig(baseUrl: "https://api.example.com"), defaultSessionConfig(baseUrl: "https://api.example.com"))
    }
}
