// swift-tools-version:5.9
// RefreshKit for iOS and macOS: the Swift bindings of the refreshkit Rust core plus a
// Swift layer (event stream, Task cancellation, URLSession integration, Keychain store).
//
// On Apple platforms the Rust core comes as RefreshKitFFI.xcframework, built by
// build-xcframework.sh. On Linux (where the Swift tests run in CI) it is the host
// library in ../target/debug, with the generated header as a C target.
import Foundation
import PackageDescription

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
// Which cargo build of the host library to link on Linux: debug for tests, release for
// the benchmark.
let rustProfile = ProcessInfo.processInfo.environment["REFRESHKIT_PROFILE"] ?? "debug"

#if os(Linux)
let ffiTarget: Target = .target(name: "RefreshKitFFI", path: "Sources/RefreshKitFFI")
let rustLinking: [LinkerSetting] = [
    .unsafeFlags(["-L\(repositoryRoot)/target/\(rustProfile)"]),
    .linkedLibrary("refreshkit"),
]
#else
let ffiTarget: Target = .binaryTarget(name: "RefreshKitFFI", path: "RefreshKitFFI.xcframework")
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
            path: "Sources/RefreshKit",
            linkerSettings: rustLinking
        ),
        // The auth server process and test doubles, for the tests and the benchmark.
        .target(
            name: "RefreshKitTestSupport",
            dependencies: ["RefreshKit"],
            path: "Sources/RefreshKitTestSupport"
        ),
        .executableTarget(
            name: "RefreshKitBench",
            dependencies: ["RefreshKit", "RefreshKitTestSupport"],
            path: "Sources/RefreshKitBench"
        ),
        // A session in another OS process over a FileTokenStore, for ProcessesTests.
        .executableTarget(
            name: "RefreshKitChild",
            dependencies: ["RefreshKit"],
            path: "Sources/RefreshKitChild"
        ),
        .testTarget(
            name: "RefreshKitTests",
            dependencies: ["RefreshKit", "RefreshKitTestSupport"],
            path: "Tests/RefreshKitTests"
        ),
    ]
)
