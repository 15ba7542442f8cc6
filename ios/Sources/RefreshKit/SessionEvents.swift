import Foundation

/// A `SessionListener` that hands every event to `AsyncStream`s: `stream` for the one
/// consumer most apps need, and `subscribe()` or `states(of:)` for any number more (a
/// screen, a view model, an analytics task), each with its own stream.
///
/// ```swift
/// let events = SessionEvents()
/// let session = try Session(config: config, store: store, listener: events)
/// Task { [stream = events.stream] in
///     for await case .expired(let reason) in stream { showLogin(reason) }
/// }
/// ```
///
/// Every stream ends when `finish()` is called, or when the session and this object are
/// both released. Capture `stream`, not `events`, in a long-lived Task: a Task that holds
/// `events` keeps it alive, so the stream could only end through `finish()`.
public final class SessionEvents: SessionListener {
    /// Events in the order the session emitted them. One consumer, as for any `AsyncStream`.
    public let stream: AsyncStream<SessionEvent>
    private let continuation: AsyncStream<SessionEvent>.Continuation
    private let observers = Observers()

    /// Keeps the newest `bufferSize` events while nobody is iterating.
    public init(bufferSize: Int = 256) {
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(bufferSize))
    }

    public func onEvent(event: SessionEvent) throws {
        continuation.yield(event)
        observers.send(event)
    }

    /// A new stream of the events from now on, for one more consumer; `stream` and the
    /// other subscribers still get every event. It ends with the others, or when its
    /// consumer stops (its `for await` breaks or its Task is cancelled), which also
    /// unsubscribes it. Keeps the newest `bufferSize` events while its consumer is busy.
    public func subscribe(bufferSize: Int = 256) -> AsyncStream<SessionEvent> {
        let (events, continuation) = AsyncStream.makeStream(of: SessionEvent.self, bufferingPolicy: .bufferingNewest(bufferSize))
        observers.add(continuation) { continuation.yield($0) }
        return events
    }

    /// A new stream of `session`'s state (this object must be its listener): the state
    /// now, the state once the store read that `Session(config:store:)` started has
    /// ended, then the state after each event; a state equal to the last one is not
    /// repeated, and a consumer that falls behind gets the newest (like Android's
    /// `StateFlow`). `.refreshing` has no event, so it shows only when it is the state as
    /// an event arrives. Ends like `subscribe()`. Holds the session weakly (strongly only
    /// until the store read has ended).
    public func states(of session: Session) -> AsyncStream<SessionState> {
        let (states, continuation) = AsyncStream.makeStream(of: SessionState.self, bufferingPolicy: .bufferingNewest(1))
        let relay = StateRelay(continuation)
        // The store read ends without an event; the Task holds the session until it has.
        let restored = Task { [weak session] in
            guard let session else { return }
            _ = await session.restoredState()
            relay.send { session.state() }
        }
        observers.add(continuation, onStop: { restored.cancel() }) { [weak session] _ in
            if let session { relay.send { session.state() } }
        }
        // After subscribing, so no event falls between the first state and the next.
        relay.send { session.state() }
        return states
    }

    /// Ends every stream: a `for await` over one finishes after the events already
    /// buffered. Later events are dropped, and later subscribers get a stream that ends.
    public func finish() {
        continuation.finish()
        observers.finish()
    }

    /// How many `subscribe()` and `states(of:)` streams are open.
    var observerCount: Int { observers.count }

    deinit {
        continuation.finish()
        observers.finish()
    }
}

/// The subscribers of a `SessionEvents`, each removed when its stream terminates.
private final class Observers: @unchecked Sendable {
    private struct Observer {
        let onEvent: @Sendable (SessionEvent) -> Void
        let finish: @Sendable () -> Void
    }

    private let lock = NSLock()
    private var observers: [UInt64: Observer] = [:]
    private var nextID: UInt64 = 0
    private var finished = false

    var count: Int { lock.lock(); defer { lock.unlock() }; return observers.count }

    /// Adds an observer whose stream is `continuation`. When that stream terminates (its
    /// consumer stopped, or `finish()`), the observer is removed and `onStop` runs. The
    /// stream ends at once when every stream has already ended.
    func add<Element>(
        _ continuation: AsyncStream<Element>.Continuation,
        onStop: (@Sendable () -> Void)? = nil,
        onEvent: @escaping @Sendable (SessionEvent) -> Void
    ) {
        lock.lock()
        guard !finished else {
            lock.unlock()
            onStop?()
            return continuation.finish()
        }
        let id = nextID
        nextID += 1
        observers[id] = Observer(onEvent: onEvent, finish: { continuation.finish() })
        lock.unlock()
        continuation.onTermination = { [weak self] _ in
            self?.remove(id)
            onStop?()
        }
    }

    private func remove(_ id: UInt64) {
        lock.lock(); defer { lock.unlock() }
        observers[id] = nil
    }

    /// Hands `event` to every observer, outside the lock (a consumer may subscribe).
    func send(_ event: SessionEvent) {
        lock.lock()
        let current = Array(observers.values)
        lock.unlock()
        for observer in current { observer.onEvent(event) }
    }

    func finish() {
        lock.lock()
        finished = true
        let current = Array(observers.values)
        observers = [:]
        lock.unlock()
        for observer in current { observer.finish() }
    }
}

/// Yields a state only when it differs from the last one yielded; reads and yields under
/// one lock, so two events arriving together cannot yield an older state last.
private final class StateRelay: @unchecked Sendable {
    private let lock = NSLock()
    private let continuation: AsyncStream<SessionState>.Continuation
    private var last: SessionState?

    init(_ continuation: AsyncStream<SessionState>.Continuation) { self.continuation = continuation }

    func send(_ read: () -> SessionState) {
        lock.lock(); defer { lock.unlock() }
        let state = read()
        guard state != last else { return }
        last = state
        continuation.yield(state)
    }
}
