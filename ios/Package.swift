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

#if os(Linux)
let ffiTarget: Target = .target(name: "RefreshKitFFI", path: "Sources/RefreshKitFFI")
let rustLinking: [LinkerSetting] = [
    .unsafeFlags(["-L\(repositoryRoot)/target/debug"]),
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
        .testTarget(
            name: "RefreshKitTests",
            dependencies: ["RefreshKit"],
            path: "Tests/RefreshKitTests"
        ),
    ]
)
