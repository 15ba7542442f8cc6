import RefreshKit
import XCTest

/// The README's iOS quick start, kept compiling as written: scripts/readme-swift.sh
/// (run by scripts/test-swift.sh) extracts it into target/ReadmeSnippets.swift, beside
/// this file; without that file this test does not build. It is not run (it talks to
/// api.example.com). The README's "DPoP on iOS" snippet is compiled there too where a
/// Security module exists, and on Linux by scripts/swift-keychain-checks.sh.
final class ReadmeQuickStartTests: XCTestCase {
    func testTheQuickStartCompiles() {
        _ = readmeIOSQuickStart
    }
}
