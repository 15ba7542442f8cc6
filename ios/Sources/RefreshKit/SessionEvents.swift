import Foundation

/// A `SessionListener` that hands every event to an `AsyncStream`.
///
/// ```swift
/// let events = SessionEvents()
/// let session = try Session(config: config, store: store, listener: events)
/// Task {
///     for await case .expired(let reason) in events.stream { showLogin(reason) }
/// }
/// ```
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

    deinit {
        continuation.finish()
    }
}
