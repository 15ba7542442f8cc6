import Foundation
import RefreshKit
import RefreshKitTestSupport
import XCTest

final class EventStreamTests: XCTestCase {
    func testFinishEndsAForAwaitThatHoldsTheEvents() async throws {
        let server = try AuthServer()
        let events = SessionEvents()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), listener: events)
        let ended = Flag()
        // The shape that used to leak: the Task holds `events` itself.
        Task { for await _ in events.stream {}; ended.set() }
        try await session.signIn(tokens: try await server.login())

        events.finish()

        let done = await ended.wait()
        XCTAssertTrue(done, "the for await never ended")
    }

    func testTheStreamEndsWhenTheSessionIsReleased() async throws {
        let server = try AuthServer()
        let ended = Flag()
        do {
            let events = SessionEvents()
            let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), listener: events)
            Task { [stream = events.stream] in for await _ in stream {}; ended.set() }
            try await session.signIn(tokens: try await server.login())
        }
        let done = await ended.wait()
        XCTAssertTrue(done, "the session or its listener was never released")
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.lock(); value = true; lock.unlock() }

    private var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }

    /// Waits (bounded, as `eventually`) for `set()`; false if it never came.
    func wait() async -> Bool {
        (try? await eventually("the flag") { isSet }) != nil
    }
}
