import Foundation
@testable import RefreshKit
import XCTest

/// The Keychain store's logic, apart from the Security framework (not on Linux).
final class KeychainLogicTests: XCTestCase {
    func testAWriteRacingAnotherProcessAddingTheItemUpdatesIt() {
        var calls: [String] = []
        var exists = false
        let status = upsert(
            update: { calls.append("update"); return exists ? 0 : -25300 },
            add: { calls.append("add"); exists = true; return -25299 }  // an extension added it first
        )
        XCTAssertEqual(status, 0)
        XCTAssertEqual(calls, ["update", "add", "update"])
    }

    func testAWriteAddsAMissingItemAndReportsOtherFailures() {
        XCTAssertEqual(upsert(update: { -25300 }, add: { 0 }), 0)
        XCTAssertEqual(upsert(update: { -25308 }, add: { XCTFail("no add after a real failure"); return 0 }), -25308)
    }

    func testTheFirstLaunchAfterAnInstallClearsTokensLeftByAnEarlierInstall() throws {
        let defaults = UserDefaults(suiteName: "refreshkit-tests-\(UUID().uuidString)")!
        let item = MemoryItem()
        let store = SecureItemTokenStore(item: item)
        try store.save(tokens: Tokens(accessToken: "a", refreshToken: "r"))

        try store.clearIfFirstLaunch(defaults: defaults)
        XCTAssertNil(try store.load(), "tokens from before the install are gone")

        try store.save(tokens: Tokens(accessToken: "b", refreshToken: "r2"))
        try store.clearIfFirstLaunch(defaults: defaults)
        XCTAssertEqual(try store.load()?.accessToken, "b", "later launches keep the session")
    }

    func testALockedKeychainOnFirstLaunchIsTriedAgainNextLaunch() throws {
        let defaults = UserDefaults(suiteName: "refreshkit-tests-\(UUID().uuidString)")!
        let item = MemoryItem()
        let store = SecureItemTokenStore(item: item)
        try store.save(tokens: Tokens(accessToken: "a", refreshToken: "r"))
        item.error = .locked
        XCTAssertThrowsError(try store.clearIfFirstLaunch(defaults: defaults))
        item.error = nil
        try store.clearIfFirstLaunch(defaults: defaults)
        XCTAssertNil(try store.load())
    }
}

final class MemoryItem: SecureItem, @unchecked Sendable {
    var data: Data?
    var error: SecureItemError?
    func read() throws -> Data? { if let error { throw error }; return data }
    func write(_ data: Data) throws { if let error { throw error }; self.data = data }
    func delete() throws { if let error { throw error }; data = nil }
}
