import Foundation
@testable import RefreshKit
import RefreshKitTestSupport
import XCTest

/// Many observers of one session's state: `SessionEvents.subscribe()`, `states(of:)` and
/// `SessionStateModel`, against the auth server.
final class SessionStateObservingTests: XCTestCase {
    func testTwoModelsBothSeeActiveThenExpiredThenSignedOut() async throws {
        try await twoModelsSeeActiveThenExpiredThenSignedOut()
    }

    func testTwoStateStreamsBothSeeActiveThenExpiredInOrder() async throws {
        let server = try AuthServer()
        let events = SessionEvents()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), listener: events)
        let seen = [Seen(), Seen()]
        let watchers = zip([events.states(of: session), events.states(of: session)], seen).map { states, seen in
            Task { for await state in states { seen.append(state) } }
        }
        try await eventually("both streams to be subscribed") { events.observerCount == 2 }
        try await session.signIn(tokens: try await server.login())
        try await endTheSession(server, session)

        try await eventually("both streams to see Expired") { seen.allSatisfy { $0.states.contains(.expired) } }
        for states in seen.map(\.states) {
            XCTAssertEqual(states.filter { $0 == .active || $0 == .expired }, [.active, .expired], "\(states)")
            XCTAssertFalse(zip(states, states.dropFirst()).contains { $0 == $1 }, "a state was repeated: \(states)")
        }
        watchers.forEach { $0.cancel() }
        try await eventually("the streams that ended to be unsubscribed") { events.observerCount == 0 }
    }

    func testEverySubscriberAndTheMainStreamGetEveryEvent() async throws {
        let server = try AuthServer()
        let events = SessionEvents()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), listener: events)
        let streams = [events.stream, events.subscribe(), events.subscribe()]
        try await session.signIn(tokens: try await server.login())
        try await session.signOut()

        for stream in streams {
            let seen = try await withBound {
                var seen: [SessionEvent] = []
                for await event in stream {
                    seen.append(event)
                    if event == .signedOut { break }
                }
                return seen
            }
            XCTAssertEqual(seen, [.signedIn, .signedOut])
        }
    }

    func testAReleasedModelStopsWatchingAndKeepsNothingAlive() async throws {
        try await aReleasedModelStopsWatchingAndKeepsNothingAlive()
    }

    func testAConsumerThatStopsIsUnsubscribedAndFinishEndsTheOthers() async throws {
        let events = SessionEvents()
        let stopping = Task { for await _ in events.subscribe() {} }
        let ended = Flag()
        let ending = events.subscribe()
        Task { for await _ in ending {}; ended.set() }
        try await eventually("both to be subscribed") { events.observerCount == 2 }

        stopping.cancel()
        try await eventually("the cancelled consumer to be unsubscribed") { events.observerCount == 1 }
        events.finish()
        let done = await ended.wait()
        XCTAssertTrue(done, "finish() ended the other consumer")
        XCTAssertEqual(events.observerCount, 0)
        let late = events.subscribe()
        let lateEvents = try await withBound { await late.reduce(0) { count, _ in count + 1 } }
        XCTAssertEqual(lateEvents, 0, "a stream subscribed after finish() ends at once")
    }
}

@MainActor
private func twoModelsSeeActiveThenExpiredThenSignedOut() async throws {
    let server = try AuthServer()
    let events = SessionEvents()
    let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), listener: events)
    let first = SessionStateModel(session: session, events: events)
    let second = SessionStateModel(session: session, events: events)
    try await eventually("both models to see the empty store read") { first.state == .signedOut && second.state == .signedOut }
    XCTAssertTrue(first.needsSignIn)

    try await session.signIn(tokens: try await server.login())
    try await eventually("both models to see Active") { first.state == .active && second.state == .active }
    XCTAssertFalse(first.needsSignIn || second.needsSignIn)

    try await endTheSession(server, session)
    try await eventually("both models to see Expired") { first.state == .expired && second.state == .expired }
    XCTAssertTrue(first.needsSignIn && second.needsSignIn)

    try await session.signIn(tokens: try await server.login())
    try await session.signOut()
    try await eventually("both models to see SignedOut") { first.state == .signedOut && second.state == .signedOut }
}

@MainActor
private func aReleasedModelStopsWatchingAndKeepsNothingAlive() async throws {
    let server = try AuthServer()
    let events = SessionEvents()
    var session: Session? = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), listener: events)
    var model: SessionStateModel? = SessionStateModel(session: session!, events: events)
    let released = (model: Weak(model!), session: Weak(session!))
    try await session!.signIn(tokens: try await server.login())
    try await eventually("the model to see Active") { model?.state == .active }
    XCTAssertEqual(events.observerCount, 1)

    model = nil
    try await eventually("the released model to stop watching") { released.model.value == nil && events.observerCount == 0 }
    session = nil
    try await eventually("the session to be released: the stream held it only weakly") { released.session.value == nil }
}

private final class Weak<T: AnyObject> {
    weak var value: T?
    init(_ value: T) { self.value = value }
}

/// Expires the access token and makes the refresh answer `invalid_grant`, then sends
/// a request: the session ends as Expired.
func endTheSession(_ server: AuthServer, _ session: Session) async throws {
    try await server.expireAll()
    try await server.fault(#"{"kind": "invalid_grant"}"#)
    _ = try? await session.execute(HttpRequest(url: "/api/resource"))
}

/// The states one stream gave, in order.
private final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [SessionState] = []

    var states: [SessionState] { lock.lock(); defer { lock.unlock() }; return seen }
    func append(_ state: SessionState) { lock.lock(); seen.append(state); lock.unlock() }
}

/// `body`'s value, or a failure when it takes more than `seconds` (nothing hangs).
func withBound<T: Sendable>(_ seconds: Double = 30, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)); return nil }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw NeverHappened(what: "an answer within \(seconds) s") }
        return value
    }
}
