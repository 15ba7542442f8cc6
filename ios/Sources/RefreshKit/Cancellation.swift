import Foundation

// The cancellable Swift API: `execute(_:)` (RustFutureCall.swift), `validAccessToken()`
// and `token(replacing:)`. Use these rather than the generated `execute(request:)`,
// `accessToken()` and `refreshAfterUnauthorized(rejectedAccessToken:)`, which ignore
// Task cancellation. The two below send nothing for the app: they return
// `CancellationError` as soon as the calling Task is cancelled, and the refresh they
// waited for carries on for the others and its result is kept.

extension Session {
    /// A valid access token (refreshed first when near expiry); honours Task cancellation.
    public func validAccessToken() async throws -> String {
        try await cancellable { try await self.accessToken() }
    }

    /// A token newer than `rejected`, which the server answered 401 to; honours Task
    /// cancellation. Refreshes at most once per token, however many callers ask.
    public func token(replacing rejected: String) async throws -> String {
        try await cancellable { try await self.refreshAfterUnauthorized(rejectedAccessToken: rejected) }
    }
}

/// Runs `operation` in its own Task and returns its result, or `CancellationError` as
/// soon as the calling Task is cancelled, whichever comes first.
func cancellable<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try Task.checkCancellation()
    let gate = ResumeOnce<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            gate.arm(continuation)
            Task {
                do {
                    gate.resume(with: .success(try await operation()))
                } catch {
                    gate.resume(with: .failure(error))
                }
            }
        }
    } onCancel: {
        gate.resume(with: .failure(CancellationError()))
    }
}

/// Resumes a continuation exactly once, whichever of result and cancellation comes
/// first, and even if cancellation comes before the continuation exists.
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Error>?
    private var early: Result<T, Error>?
    private var done = false

    func arm(_ continuation: CheckedContinuation<T, Error>) {
        lock.lock()
        if let early {
            done = true
            lock.unlock()
            continuation.resume(with: early)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    func resume(with result: Result<T, Error>) {
        lock.lock()
        guard !done else {
            lock.unlock()
            return
        }
        guard let continuation else {
            if early == nil { early = result }
            lock.unlock()
            return
        }
        done = true
        self.continuation = nil
        lock.unlock()
        continuation.resume(with: result)
    }
}
