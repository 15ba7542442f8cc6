import Foundation

/// A `RefreshLock` held only under a background task (`BackgroundTasks`), for a lock file
/// in an App Group container: iOS kills an app that is suspended holding a file lock
/// there (0xdead10cc). The session holds the lock from "read the store again" through
/// the refresh call to "the rotated tokens are saved", so one background task covers the
/// whole refresh and its save, and the lock is let go before the app is suspended.
///
/// When the task expires first, the lock is given up at once and the task ended:
/// - while the lock is awaited, the wait ends and the refresh fails retryably
///   (`SessionError.timeout`), unsent;
/// - while it is held (the refresh call or the save under way, or a failed save whose
///   tokens the session saves again), the session still counts it as held, so the store
///   takes it back, under a new background task, before its next read or write
///   (`reclaim`); if it cannot within `reclaimTimeout`, that store call fails
///   (`StoreError.failed`), retryably, and the lock stays given up.
///
/// Another process may refresh while the lock is given up; what it saves, the session
/// finds in the store when it reads it again.
public final class BackgroundTaskRefreshLock: RefreshLock, @unchecked Sendable {
    private let lock: RefreshLock
    private let tasks: BackgroundTasks
    private let reclaimTimeout: TimeInterval
    private let state = NSLock()
    private var phase = Phase.free
    /// The background task of each attempt to take the lock, and of the holder.
    private var assertions: [UInt64: Assertion] = [:]
    /// Attempts whose task is being begun; an expiry meanwhile removes them.
    private var beginning: Set<UInt64> = []
    private var last: UInt64 = 0

    private enum Phase: Equatable {
        case free
        /// Held by this process, under the background task of that attempt.
        case held(UInt64)
        /// A session holds it, but its task expired and the lock was let go.
        case givenUp
    }

    /// The lock file at `lockFile` (`file_refresh_lock`).
    public convenience init(lockFile: URL, backgroundTasks: BackgroundTasks = SystemBackgroundTasks(), reclaimTimeout: TimeInterval = 5) {
        self.init(wrapping: fileRefreshLock(path: lockFile.path), backgroundTasks: backgroundTasks, reclaimTimeout: reclaimTimeout)
    }

    /// `lock`, taken and held only under a background task.
    public init(wrapping lock: RefreshLock, backgroundTasks: BackgroundTasks = SystemBackgroundTasks(), reclaimTimeout: TimeInterval = 5) {
        self.lock = lock
        self.tasks = backgroundTasks
        self.reclaimTimeout = reclaimTimeout
    }

    public func acquire(timeoutMs: UInt64) throws -> Bool {
        try take(within: TimeInterval(timeoutMs) / 1000, from: .free)
    }

    public func release() throws {
        let (ended, failure): (Assertion?, Error?) = state.sync {
            switch phase {
            case .held(let attempt):
                phase = .free
                do {
                    try lock.release()
                    return (assertions.removeValue(forKey: attempt), nil)
                } catch {
                    return (assertions.removeValue(forKey: attempt), error)
                }
            case .givenUp:
                phase = .free
                return (nil, nil)
            case .free:
                return (nil, nil)
            }
        }
        ended?.end()
        if let failure { throw failure }
    }

    /// Takes the lock back when a session holds it but it was given up at an expiry; a
    /// store calls this before every read and write. Throws `StoreError.failed` when it
    /// cannot within `reclaimTimeout`.
    public func reclaim() throws {
        guard state.sync({ phase == .givenUp }) else { return }
        guard try take(within: reclaimTimeout, from: .givenUp) else {
            throw StoreError.failed(detail: "the refresh lock, given up when the app's background time ran out, could not be taken back")
        }
    }

    private func take(within seconds: TimeInterval, from start: Phase) throws -> Bool {
        let attempt: UInt64 = state.sync {
            last += 1
            beginning.insert(last)
            return last
        }
        let assertion = Assertion(tasks.begin("refreshkit: refresh and save the tokens") { [weak self] in
            self?.expire(attempt)
        })
        // The OS may expire the task before `begin` returns (no background time left).
        let expiredAlready = state.sync { () -> Bool in
            guard beginning.remove(attempt) != nil else { return true }
            assertions[attempt] = assertion
            return false
        }
        if expiredAlready {
            assertion.end()
            return false
        }
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            // One try at a time under `state`, so an expiry sees the lock either not
            // taken or held, never in between.
            let outcome: Bool?
            do {
                outcome = try state.sync {
                    guard assertions[attempt] != nil else { return false }
                    guard phase == start, try lock.acquire(timeoutMs: 0) else { return nil }
                    phase = .held(attempt)
                    return true
                }
            } catch {
                state.sync { assertions.removeValue(forKey: attempt) }?.end()
                throw error
            }
            if outcome == true { return true }
            if outcome == false || Date() >= deadline {
                state.sync { assertions.removeValue(forKey: attempt) }?.end()
                return false
            }
            // As `file_refresh_lock` polls; this runs on one of the core's blocking threads.
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    private func expire(_ attempt: UInt64) {
        let ended: Assertion? = state.sync {
            beginning.remove(attempt)
            if phase == .held(attempt) {
                phase = .givenUp
                // A release that fails leaves nothing else to try here.
                try? lock.release()
            }
            return assertions.removeValue(forKey: attempt)
        }
        ended?.end()
    }
}

/// A background task ended at most once, whoever ends it first.
private final class Assertion: @unchecked Sendable {
    private let task: BackgroundTask
    private let lock = NSLock()
    private var ended = false

    init(_ task: BackgroundTask) { self.task = task }

    func end() {
        let first = lock.sync { () -> Bool in
            defer { ended = true }
            return !ended
        }
        if first { task.end() }
    }
}

/// A `RefreshLock` within this process only, for a store that no other process uses:
/// holding it costs nothing, and under `BackgroundTaskRefreshLock` it makes the refresh
/// and its save run under a background task.
final class ProcessRefreshLock: RefreshLock, @unchecked Sendable {
    private let lock = NSLock()
    private var held = false

    func acquire(timeoutMs: UInt64) throws -> Bool {
        // Only ever asked without waiting (BackgroundTaskRefreshLock polls).
        let deadline = Date().addingTimeInterval(TimeInterval(timeoutMs) / 1000)
        while true {
            if lock.sync({ () -> Bool in
                if held { return false }
                held = true
                return true
            }) { return true }
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    func release() throws {
        lock.sync { held = false }
    }
}

extension NSLock {
    /// `body` under the lock (`withLock` needs iOS 16).
    func sync<T>(_ body: () throws -> T) rethrows -> T {
        lock(); defer { unlock() }
        return try body()
    }
}
