import Foundation

/// The OS's promise to keep the process running (not suspended) while some work finishes:
/// on iOS a background task. `BackgroundTaskRefreshLock` holds the token store's refresh
/// lock only under one, so the refresh and its save finish, and the lock is let go,
/// before the app is suspended. Tests give their own to expire it on demand.
public protocol BackgroundTasks: Sendable {
    /// Begins a background task. When the OS will not wait any longer it calls `expired`
    /// (at most once, on any thread), which must end the task before it returns.
    func begin(_ name: String, expired: @escaping @Sendable () -> Void) -> BackgroundTask
}

/// One background task; `end()` lets the OS suspend the process again. Ended once.
public protocol BackgroundTask: Sendable {
    func end()
}

/// The OS's background tasks: on iOS, tvOS, watchOS and visionOS
/// `ProcessInfo.performExpiringActivity` (in an app the same assertion as
/// `UIApplication.beginBackgroundTask`; unlike it, also in app extensions). Elsewhere
/// (macOS, Linux) processes are not suspended, and a task never expires.
public struct SystemBackgroundTasks: BackgroundTasks {
    public init() {}

    public func begin(_ name: String, expired: @escaping @Sendable () -> Void) -> BackgroundTask {
        let activity = ExpiringActivity(expired: expired)
        #if os(iOS) || os(tvOS) || os(watchOS) || os(visionOS)
        // The block runs on a queue of the OS's: called with false, it holds the assertion
        // until it returns, so it waits for `end()`; called (again, or only) with true,
        // the time is up.
        ProcessInfo.processInfo.performExpiringActivity(withReason: name) { expiring in
            if expiring { activity.expire() } else { activity.waitUntilEnded() }
        }
        #endif
        return activity
    }
}

private final class ExpiringActivity: BackgroundTask, @unchecked Sendable {
    private let condition = NSCondition()
    private var ended = false
    private var expired: (@Sendable () -> Void)?

    init(expired: @escaping @Sendable () -> Void) { self.expired = expired }

    func end() {
        condition.lock(); defer { condition.unlock() }
        ended = true
        condition.broadcast()
    }

    func expire() {
        condition.lock()
        let handler = ended ? nil : expired
        expired = nil
        condition.unlock()
        handler?()
        end()
    }

    func waitUntilEnded() {
        condition.lock(); defer { condition.unlock() }
        while !ended { condition.wait() }
    }
}
