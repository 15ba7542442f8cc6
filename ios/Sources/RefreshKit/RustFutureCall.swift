import Foundation
#if canImport(RefreshKitFFI)
import RefreshKitFFI
#endif

// UniFFI 0.32's generated async functions never cancel their Rust future, so a cancelled
// `execute` was still sent once a refresh it waited for completed. This drives the
// future itself and cancels it with the calling Task; the core then drops the request
// (and sends it only if it was already on the wire). Tied to the FFI of the bindings in
// this package: a UniFFI upgrade that changes them fails to compile here.

extension Session {
    /// Sends `request` as `execute(request:)` does. Cancelling the calling Task cancels
    /// the request: one that has not been sent (it waits for a refresh or a free
    /// connection) never is, and the call throws `CancellationError`. A refresh it was
    /// waiting for goes on for the other requests.
    public func execute(_ request: HttpRequest) async throws -> HttpResponse {
        try Task.checkCancellation()
        let future = uniffi_refreshkit_fn_method_session_execute(
            FfiConverterTypeSession_lower(self), FfiConverterTypeHttpRequest_lower(request))
        defer { ffi_refreshkit_rust_future_free_rust_buffer(future) }
        await withTaskCancellationHandler {
            while await poll(future) != 0 {}  // 0: UNIFFI_RUST_FUTURE_POLL_READY
        } onCancel: {
            ffi_refreshkit_rust_future_cancel_rust_buffer(future)
        }
        var status = RustCallStatus()
        let buffer = ffi_refreshkit_rust_future_complete_rust_buffer(future, &status)
        switch status.code {
        case 0: return try FfiConverterTypeHttpResponse_lift(buffer)
        case 1: throw try FfiConverterTypeSessionError_lift(status.errorBuf)
        case 3: throw CancellationError()
        default:
            var ignored = RustCallStatus()
            ffi_refreshkit_rustbuffer_free(status.errorBuf, &ignored)
            throw SessionError.Internal(detail: "the Rust call failed unexpectedly")
        }
    }
}

private func poll(_ future: UInt64) async -> Int8 {
    await withUnsafeContinuation { continuation in
        let handle = waiting.insert(continuation)
        ffi_refreshkit_rust_future_poll_rust_buffer(future, { handle, result in
            waiting.remove(handle)?.resume(returning: result)
        }, handle)
    }
}

/// Continuations waiting for a poll result, by the handle given to Rust (a C callback
/// cannot capture them).
private let waiting = Waiting()

private final class Waiting: @unchecked Sendable {
    private let lock = NSLock()
    private var next: UInt64 = 0
    private var map: [UInt64: UnsafeContinuation<Int8, Never>] = [:]

    func insert(_ continuation: UnsafeContinuation<Int8, Never>) -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        next += 1
        map[next] = continuation
        return next
    }

    func remove(_ handle: UInt64) -> UnsafeContinuation<Int8, Never>? {
        lock.lock(); defer { lock.unlock() }
        return map.removeValue(forKey: handle)
    }
}
