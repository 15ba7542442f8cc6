import Foundation
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// Issue 11 from Swift: two OS processes, each a Swift `Session` over its own
/// `FileTokenStore(url:)` on one file (an app and its extension on one Keychain item),
/// burst requests right after the tokens expired. Through the store's `fileRefreshLock`
/// one refreshes and the other adopts what it saved.
final class ProcessesTests: XCTestCase {
    private let rounds = 10
    private let requests = 50

    /// RefreshKitChild, built beside this test bundle.
    private func childExecutable() throws -> URL {
        var places: [URL] = []
        if let given = ProcessInfo.processInfo.environment["REFRESHKIT_CHILD"] { places.append(URL(fileURLWithPath: given)) }
        for bundle in [Bundle.main, Bundle(for: ProcessesTests.self)] {
            places.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("RefreshKitChild"))
            if let executable = bundle.executableURL {
                places.append(executable.deletingLastPathComponent().appendingPathComponent("RefreshKitChild"))
            }
        }
        guard let found = places.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw NeverHappened(what: "RefreshKitChild (build it with the tests; looked in \(places.map(\.path)))")
        }
        return found
    }

    /// Starts a process on the store and waits until it has read it.
    private func ready(_ server: AuthServer, _ store: URL) throws -> ChildProcess {
        let child = try ChildProcess(try childExecutable(), [server.baseURL, store.path, "\(requests)"])
        let first = try child.line()
        XCTAssertEqual(first, "ready")
        return child
    }

    func testTwoProcessesOnOneFileStoreRefreshOncePerExpiryAndNeverSpendARefreshTokenTwice() async throws {
        let server = try AuthServer()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("refreshkit-swift-procs-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tokens.json")
        try FileTokenStore(url: path).save(tokens: try await server.login())
        var refreshesPerRound: [Int] = []
        var summaries: [String] = []

        for round in 0..<rounds {
            try await server.expireAll()
            let before = try await server.stat("refreshes")
            let children = try (0..<2).map { _ in try ready(server, path) }
            children.forEach { $0.send("go") }
            var outcomes: [String] = []
            for child in children {
                var outcome = try child.line()
                if !outcome.hasPrefix("ok=\(requests) expired=0 errors=0") { outcome += " " + ((try? child.line(within: 5)) ?? "") }
                outcomes.append(outcome)
                try await child.finish()
            }

            for outcome in outcomes {
                XCTAssertTrue(outcome.hasPrefix("ok=\(requests) expired=0 errors=0"), "round \(round): \(outcome)")
            }
            let reused = try await server.stat("reuse_detected")
            XCTAssertEqual(reused, 0, "round \(round): a refresh token was spent twice")
            XCTAssertNotNil(try FileTokenStore(url: path).load(), "round \(round): the store is readable")
            refreshesPerRound.append(try await server.stat("refreshes") - before)
            summaries.append(outcomes.joined(separator: " | "))
            XCTAssertEqual(refreshesPerRound.last, 1, "round \(round): one refresh across both processes")
            if reused > 0 { break }
        }

        print("2 Swift processes x \(requests) requests, \(rounds) rounds: \(refreshesPerRound.reduce(0, +)) refreshes "
            + "(per round: \(refreshesPerRound)), reuse_detected \(try await server.stat("reuse_detected"))")
        for (round, summary) in summaries.enumerated() { print("  round \(round): \(summary)") }
        // The session the processes left behind still works from here.
        let after = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FileTokenStore(url: path))
        let restored = await after.restoredState()
        XCTAssertEqual(restored, .active)
        let status = try await after.execute(HttpRequest(url: "/api/resource")).status
        XCTAssertEqual(status, 200)
    }
}
