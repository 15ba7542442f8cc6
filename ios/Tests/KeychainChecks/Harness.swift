import Foundation
import RefreshKit
import Security

/// Why a check failed; never holds a token.
struct CheckFailure: Error, CustomStringConvertible {
    let description: String
}

private(set) var passed: [String] = []
private(set) var failed: [String] = []

/// Runs one named check on an empty stub Keychain and records the outcome.
func check(_ name: String, _ body: () throws -> Void) {
    SecurityStubControl.reset()
    do {
        try body()
        passed.append(name)
        print("ok - \(name)")
    } catch {
        failed.append(name)
        print("FAIL - \(name): \(error)")
    }
}

/// `check` for async bodies: waits (bounded) for `body` on the cooperative pool.
func checkAsync(_ name: String, within seconds: Int = 60, _ body: @escaping @Sendable () async throws -> Void) {
    check(name) {
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        Task {
            do { try await body() } catch { outcome.error = error }
            done.signal()
        }
        guard done.wait(timeout: .now() + .seconds(seconds)) == .success else {
            throw CheckFailure(description: "did not finish within \(seconds) s")
        }
        if let error = outcome.error { throw error }
    }
}

private final class Outcome: @unchecked Sendable {
    var error: Error?
}

func expect(_ condition: Bool, _ what: @autoclosure () -> String) throws {
    if !condition { throw CheckFailure(description: what()) }
}

/// The `StoreError` that `body` threw, or `nil` when it returned.
func storeError(_ body: () throws -> Void) throws -> StoreError? {
    do {
        try body()
        return nil
    } catch let error as StoreError {
        return error
    }
}

/// The functions the stub saw since the last reset, in order.
func calledFunctions() -> [String] { SecurityStubControl.calls.map(\.function) }

/// Prints the total and exits non-zero naming each failed check.
func finish() -> Never {
    print("keychain: \(passed.count) passed, \(failed.count) failed")
    for name in failed { FileHandle.standardError.write("failed: \(name)\n".data(using: .utf8)!) }
    exit(failed.isEmpty ? 0 : 1)
}
