import Foundation
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// The store seam from Swift (issue 10, items 1, 3 and 4): a Swift store that throws or
/// is slow never costs the session, sign-out tells the truth, and building a session
/// never waits for the store.
final class StoreSeamTests: XCTestCase {
    private struct KeychainLocked: Error {}

    func testAFailedSaveNeverEndsTheSessionAtTheNextExpiry() async throws {
        let server = try AuthServer()
        let store = FlakyStore()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: store)
        try await session.signIn(tokens: try await server.login())
        try await server.expireAll()
        store.failSave(KeychainLocked())

        let first = try await session.execute(HttpRequest(url: "/api/resource")).status
        XCTAssertEqual(first, 200, "first expiry: refreshed, but not saved")
        try await server.expireAll()
        let second = try await session.execute(HttpRequest(url: "/api/resource")).status
        XCTAssertEqual(second, 200, "second expiry: the store's older tokens are not adopted")
        let third = try await session.execute(HttpRequest(url: "/api/resource")).status
        XCTAssertEqual(third, 200)

        XCTAssertEqual(session.state(), .active)
        let reused = try await server.stat("reuse_detected")
        XCTAssertEqual(reused, 0, "no refresh token was spent twice")
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 2)
    }

    func testSignOutWithAThrowingClearChangesNothingAndSaysSo() async throws {
        let server = try AuthServer()
        let store = FlakyStore()
        let recorder = Recorder()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: store, listener: recorder)
        try await session.signIn(tokens: try await server.login())
        store.failClear(KeychainLocked())

        do {
            try await session.signOut()
            XCTFail("a sign-out whose clear threw must fail")
        } catch SessionError.store {
        }

        XCTAssertEqual(session.state(), .active, "the sign-out did not happen, and says so")
        let status = try await session.execute(HttpRequest(url: "/api/resource")).status
        XCTAssertEqual(status, 200, "still signed in, as the error said")
        let relaunched = try Session(config: SessionConfig(baseUrl: server.baseURL), store: store)
        let restored = await relaunched.restoredState()
        XCTAssertEqual(restored, .active, "and still signed in after a relaunch")

        // The real sign-out's event comes after any the failed one could have sent.
        store.failClear(nil)
        try await session.signOut()
        try await eventually("the SignedOut event") { recorder.events.contains(.signedOut) }
        XCTAssertEqual(recorder.events, [.signedIn, .signedOut], "one SignedOut, for the real sign-out")
        XCTAssertNil(store.tokens)
    }

    func testBuildingASessionNeverReadsTheStoreOnTheCallingThread() async throws {
        let server = try AuthServer()
        let store = GatedStore(try await server.login())
        store.loadGate.close()

        // With the read on this thread, the initializer would wait at the closed gate
        // (up to its 30 s bound) and return with the load done.
        let (session, calling) = try Self.build(SessionConfig(baseUrl: server.baseURL), store)
        XCTAssertEqual(session.state(), .loading)
        try await eventually("the store's load to wait at the gate") { store.loadGate.waiting == 1 }
        XCTAssertFalse(store.loaded(on: calling))
        let request = Task { try await session.execute(HttpRequest(url: "/api/resource")).status }
        store.loadGate.open()

        let restored = await session.restoredState()
        XCTAssertEqual(restored, .active)
        let status = try await request.value
        XCTAssertEqual(status, 200, "a request made while loading waited for the load")
    }

    /// Builds a session the way an app's main thread would: synchronously, on one thread.
    private static func build(_ config: SessionConfig, _ store: TokenStore) throws -> (Session, Thread) {
        (try Session(config: config, store: store), Thread.current)
    }
}
