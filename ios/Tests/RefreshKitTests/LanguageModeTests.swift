import XCTest

/// Package.swift builds every target in one language mode (no target overrides it), so
/// this target's mode is RefreshKit's: Swift 6, where a data race in the Swift layer (or
/// in the generated bindings, which share its module) is a compile error.
final class LanguageModeTests: XCTestCase {
    func testThePackageIsBuiltInSwift6LanguageModeWithCompleteConcurrencyChecking() {
        #if swift(>=6)
        let mode = 6
        #else
        let mode = 5
        #endif
        XCTAssertEqual(mode, 6, "swift-tools-version below 6.0 builds the package in Swift 5 mode")
    }
}
