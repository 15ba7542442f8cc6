import Foundation
import RefreshKit

/// A gate a store call can be held at, from the test's side: a slow Keychain, a store
/// read that has not finished yet.
public final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var closed = false
    private var waiters = 0

    public init() {}

    public func close() { condition.lock(); closed = true; condition.unlock() }

    public func open() { condition.lock(); closed = false; condition.broadcast(); condition.unlock() }

    /// Calls waiting at the gate now.
    public var waiting: Int { condition.lock(); defer { condition.unlock() }; return waiters }

    /// Blocks while the gate is closed, at most 30 s, so a broken test cannot hang.
    func pass() {
        condition.lock()
        defer { condition.unlock() }
        waiters += 1
        let deadline = Date().addingTimeInterval(30)
        while closed, condition.wait(until: deadline) {}
        waiters -= 1
    }
}

/// An in-memory store whose `load` can be held at a gate.
public final class GatedStore: TokenStore, @unchecked Sendable {
    public let inner: FlakyStore
    public let loadGate = Gate()
    private let lock = NSLock()
    private var loadThreads: [Thread] = []

    public init(_ tokens: Tokens? = nil) { inner = FlakyStore(tokens) }

    /// Whether any `load` ran on `thread`.
    public func loaded(on thread: Thread) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return loadThreads.contains { $0 === thread }
    }

    public func load() throws -> Tokens? {
        lock.lock(); loadThreads.append(Thread.current); lock.unlock()
        loadGate.pass()
        return try inner.load()
    }

    public func save(tokens: Tokens) throws { try inner.save(tokens: tokens) }

    public func clear() throws { try inner.clear() }

    public func refreshLock() -> RefreshLock? { nil }
}

/// A condition that never came within its bound; thrown, so the test fails.
public struct NeverHappened: Error, CustomStringConvertible {
    public let what: String
    public init(what: String) { self.what = what }
    public var description: String { "waited in vain for \(what)" }
}

/// Polls `condition` until it holds; throws `NeverHappened` after `seconds`. Runs on the
/// caller's actor, so a condition may read main-actor state (the SwiftUI models).
public func eventually(
    _ what: String, within seconds: Double = 30,
    isolation: isolated (any Actor)? = #isolation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while try await !condition() {
        guard Date() < deadline else { throw NeverHappened(what: what) }
        try await Task.sleep(nanoseconds: 5_000_000)
    }
}
