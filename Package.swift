// swift-tools-version:6.0
// RefreshKit for iOS and macOS: the Swift bindings of the refreshkit Rust core plus a
// Swift layer (event stream, Task cancellation, URLSession integration, Keychain store).
//
// At the repository root, so SwiftPM resolves the package by the repository's URL:
// `.package(url: "https://github.com/refreshkit/refreshkit", from: "0.1.0")` and
// `.product(name: "RefreshKit", package: "refreshkit")`. The sources live in ios/.
//
// On Apple platforms the Rust core is RefreshKitFFI.xcframework: the local one built by
// ios/build-xcframework.sh, or, in a release, the zip that ios/release-xcframework.sh
// uploads (it fills in `releasedFramework` below). On Linux (where the Swift tests run
// in CI) it is the host library in target/debug, with the generated header as a C target.
//
// Tools version 6.0: every target, the generated bindings included, is built in Swift 6
// language mode (complete concurrency checking, data races are errors); no target
// overrides it (LanguageModeTests). Apps need Xcode 16 or a Swift 6 toolchain.
import Foundation
import PackageDescription

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
// Which cargo build of the host library to link on Linux: debug for tests, release for
// the benchmark.
let rustProfile = ProcessInfo.processInfo.environment["REFRESHKIT_PROFILE"] ?? "debug"

/// A release's XCFramework: (url, checksum), written by ios/release-xcframework.sh.
let releasedFramework: (url: String, checksum: String)? = nil

#if os(Linux)
let ffiTarget: Target = .target(name: "RefreshKitFFI", path: "ios/Sources/RefreshKitFFI")
let rustLinking: [LinkerSetting] = [
    .unsafeFlags([
        "-L\(repositoryRoot)/target/\(rustProfile)",
        // Executables (tests, the benchmark) find the library without LD_LIBRARY_PATH.
        "-Xlinker", "-rpath", "-Xlinker", "\(repositoryRoot)/target/\(rustProfile)",
    ]),
    .linkedLibrary("refreshkit"),
]
#else
let ffiTarget: Target = releasedFramework.map { .binaryTarget(name: "RefreshKitFFI", url: $0.url, checksum: $0.checksum) }
    ?? .binaryTarget(name: "RefreshKitFFI", path: "ios/RefreshKitFFI.xcframework")
// rustls-platform-verifier checks certificates with Security.framework.
let rustLinking: [LinkerSetting] = [.linkedFramework("Security")]
#endif

let package = Package(
    name: "RefreshKit",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "RefreshKit", targets: ["RefreshKit"]),
    ],
    targets: [
        ffiTarget,
        .target(
            name: "RefreshKit",
            dependencies: ["RefreshKitFFI"],
            path: "ios/Sources/RefreshKit",
            linkerSettings: rustLinking
        ),
        // The auth server process and test doubles, for the tests and the benchmark.
        .target(
            name: "RefreshKitTestSupport",
            dependencies: ["RefreshKit"],
            path: "ios/Sources/RefreshKitTestSupport"
        ),
        .executableTarget(
            name: "RefreshKitBench",
            dependencies: ["RefreshKit", "RefreshKitTestSupport"],
            path: "ios/Sources/RefreshKitBench"
        ),
        // One fresh process's first answer, started by RefreshKitBench (BENCHMARKS.md 4b).
        .executableTarget(
            name: "RefreshKitFirstAnswer",
            dependencies: ["RefreshKit"],
            path: "ios/Sources/RefreshKitFirstAnswer"
        ),
        // A session in another OS process over a FileTokenStore, for ProcessesTests.
        .executableTarget(
            name: "RefreshKitChild",
            dependencies: ["RefreshKit"],
            path: "ios/Sources/RefreshKitChild"
        ),
        .testTarget(
            name: "RefreshKitTests",
            dependencies: ["RefreshKit", "RefreshKitTestSupport"],
            path: "ios/Tests/RefreshKitTests"
        ),
    ]
)
