import Foundation

/// A `SessionListener` that hands every event to an `AsyncStream`.
///
/// ```swift
/// let events = SessionEvents()
/// let session = try Session(config: config, store: store, listener: events)
/// Task { [stream = events.stream] in
///     for await case .expired(let reason) in stream { showLogin(reason) }
/// }
/// ```
///
/// The stream ends when `finish()` is called, or when the session and this object are
/// both released. Capture `stream`, not `events`, in a long-lived Task: a Task that holds
/// `events` keeps it alive, so the stream could only end through `finish()`.
public final class SessionEvents: SessionListener {
    /// Events in the order the session emitted them. One consumer, as for any `AsyncStream`.
    public let stream: AsyncStream<SessionEvent>
    private let continuation: AsyncStream<SessionEvent>.Continuation

    /// Keeps the newest `bufferSize` events while nobody is iterating.
    public init(bufferSize: Int = 256) {
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(bufferSize))
    }

    public func onEvent(event: SessionEvent) throws {
        continuation.yield(event)
    }

    /// Ends the stream: a `for await` over it finishes after the events already buffered.
    /// Later events are dropped.
    public func finish() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}
