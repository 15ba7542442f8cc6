import Foundation
import RefreshKit
import RefreshKitTestSupport
import XCTest

/// The store's refresh lock (a lock file in the App Group container on iOS) is held only
/// under a background task covering the refresh and its save; when the task expires the
/// lock is let go at once (iOS kills an app suspended holding it), and taken back before
/// the store is used under it again.
final class BackgroundTaskLockTests: XCTestCase {
    func testTheRefreshAndItsSaveRunUnderABackgroundTaskThatEndsWithThem() async throws {
        let (server, tasks, item, lockFile, session) = try await signedIn()
        try await server.expireAll()

        let status = try await session.execute(HttpRequest(url: "/api/resource")).status

        XCTAssertEqual(status, 200)
        let refreshes = try await server.stat("refreshes")
        XCTAssertEqual(refreshes, 1)
        XCTAssertEqual(item.tasksAtWrites, [1, 1], "the sign-in's save and the refresh's, each under its task")
        try await eventually("the lock to be let go and its task ended") { tasks.running == 0 && lockIsFree(lockFile) }
    }

    func testWithoutALockFileTheRefreshAndItsSaveStillRunUnderABackgroundTask() async throws {
        let (server, tasks, item, _, session) = try await signedIn(lockFile: false)
        try await server.expireAll()

        let status = try await session.execute(HttpRequest(url: "/api/resource")).status

        XCTAssertEqual(status, 200)
        XCTAssertEqual(item.tasksAtWrites, [1, 1], "the sign-in's save and the refresh's, each under its task")
        try await eventually("the task to end") { tasks.running == 0 }
    }

    func testAnExpiredTaskGivesTheLockUpAtOnceAndTheSaveTakesItBackFirst() async throws {
        let (server, tasks, item, lockFile, session) = try await signedIn()
        let first = item.tokens
        try await server.expireAll()
        try await server.fault(#"{"kind": "delay", "ms": 0, "gated": true}"#)
        let call = Task { try await session.execute(HttpRequest(url: "/api/resource")).status }
        try await eventually("the refresh to reach the server") { try await server.stat("refresh_requests") == 1 }
        XCTAssertFalse(lockIsFree(lockFile), "held during the refresh call")

        XCTAssertTrue(tasks.expireAll(), "the expiration handler ended the task")
        XCTAssertTrue(lockIsFree(lockFile), "the lock was let go as the task expired")
        try await server.release()

        let status = try await call.value
        XCTAssertEqual(status, 200)
        XCTAssertNotEqual(item.tokens?.refreshToken, first?.refreshToken, "the rotated tokens were saved")
        XCTAssertEqual(item.tasksAtWrites.last, 1, "saved under a new task, with the lock taken back")
        try await eventually("the lock to be let go and its task ended") { tasks.running == 0 && lockIsFree(lockFile) }
    }

    func testATaskThatExpiresWhileTheLockIsAwaitedFailsTheRefreshRetryablyUnsent() async throws {
        let (server, tasks, _, lockFile, session) = try await signedIn()
        // Another process refreshing: it holds the lock file.
        let other = fileRefreshLock(path: lockFile.path)
        try await eventually("the sign-in to let the lock go") { try other.acquire(timeoutMs: 0) }
        try await server.expireAll()
        let call = Task { try await session.execute(HttpRequest(url: "/api/resource")).status }
        try await eventually("the session to wait for the lock under a task") { tasks.running == 1 }

        XCTAssertTrue(tasks.expireAll())

        let outcome = await call.result
        guard case .failure(let error as SessionError) = outcome else { return XCTFail("expected a SessionError, got \(outcome)") }
        XCTAssertTrue(error.isRetryable(), "\(error)")
        let asked = try await server.stat("refresh_requests")
        XCTAssertEqual(asked, 0, "no refresh without the lock")
        XCTAssertEqual(tasks.running, 0)
        try other.release()
        let status = try await session.execute(HttpRequest(url: "/api/resource")).status
        XCTAssertEqual(status, 200, "the next call refreshes")
    }

    func testWithNoBackgroundTimeLeftTheRefreshFailsRetryablyWithoutTakingTheLock() async throws {
        let (server, tasks, _, lockFile, session) = try await signedIn()
        try await server.expireAll()
        tasks.noTimeLeft = true

        let outcome = await Task { try await session.execute(HttpRequest(url: "/api/resource")) }.result

        guard case .failure(let error as SessionError) = outcome else { return XCTFail("expected a SessionError, got \(outcome)") }
        XCTAssertTrue(error.isRetryable(), "\(error)")
        let asked = try await server.stat("refresh_requests")
        XCTAssertEqual(asked, 0, "no refresh without the lock")
        XCTAssertTrue(lockIsFree(lockFile))
        XCTAssertEqual(tasks.running, 0)
    }

    func testATaskThatExpiresWhileAFailedSaveKeepsTheLockGivesItUpAndTheResaveTakesItBack() async throws {
        let (server, tasks, item, lockFile, session) = try await signedIn()
        let first = item.tokens
        try await server.expireAll()
        item.failWrites = true
        let status = try await session.execute(HttpRequest(url: "/api/resource")).status
        XCTAssertEqual(status, 200, "the rotated tokens are used though their save failed")
        // The core keeps the lock until the re-save lands: another process must not spend
        // the refresh token the store still holds.
        XCTAssertFalse(lockIsFree(lockFile), "kept after the failed save")
        XCTAssertEqual(tasks.running, 1)

        XCTAssertTrue(tasks.expireAll())
        XCTAssertTrue(lockIsFree(lockFile), "let go as the task expired")
        item.failWrites = false

        try await eventually("the re-save to land") { item.tokens != nil && item.tokens?.refreshToken != first?.refreshToken }
        XCTAssertEqual(item.tasksAtWrites.last, 1, "re-saved under a new task, with the lock taken back")
        try await eventually("the lock to be let go and its task ended") { tasks.running == 0 && lockIsFree(lockFile) }
    }

    // MARK: helpers

    private var servers: [AuthServer] = []

    private func signedIn(lockFile withLockFile: Bool = true) async throws -> (AuthServer, FakeBackgroundTasks, TaskNotingItem, URL, Session) {
        let server = try AuthServer()
        servers.append(server)
        let tasks = FakeBackgroundTasks()
        let item = TaskNotingItem(tasks)
        let lockFile = FileManager.default.temporaryDirectory.appendingPathComponent("refreshkit-\(UUID().uuidString).lock")
        addTeardownBlock { try? FileManager.default.removeItem(at: lockFile) }
        let store = SecureItemTokenStore(item: item, lockFile: withLockFile ? lockFile : nil, backgroundTasks: tasks)
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: store)
        try await session.signIn(tokens: try await server.login())
        return (server, tasks, item, lockFile, session)
    }
}

/// Whether another process could take the lock file now (a second open file is another holder).
private func lockIsFree(_ lockFile: URL) -> Bool {
    let other = fileRefreshLock(path: lockFile.path)
    guard (try? other.acquire(timeoutMs: 0)) == true else { return false }
    try? other.release()
    return true
}

/// Background tasks the test expires on demand, as iOS does when the app's time is up.
private final class FakeBackgroundTasks: BackgroundTasks, @unchecked Sendable {
    private let lock = NSLock()
    private var handlers: [Int: @Sendable () -> Void] = [:]
    private var last = 0

    private var expireAtOnce = false

    var running: Int { lock.lock(); defer { lock.unlock() }; return handlers.count }

    /// Every task begun from now on expires before `begin` returns, as when iOS has no
    /// background time left to give.
    var noTimeLeft: Bool {
        get { lock.lock(); defer { lock.unlock() }; return expireAtOnce }
        set { lock.lock(); expireAtOnce = newValue; lock.unlock() }
    }

    func begin(_ name: String, expired: @escaping @Sendable () -> Void) -> BackgroundTask {
        lock.lock()
        last += 1
        handlers[last] = expired
        let task = Fake(id: last, tasks: self)
        let now = expireAtOnce
        lock.unlock()
        if now { expired() }
        return task
    }

    fileprivate func end(_ id: Int) {
        lock.lock(); defer { lock.unlock() }
        handlers[id] = nil
    }

    /// Calls every running task's expiration handler; true when each ended its task.
    func expireAll() -> Bool {
        lock.lock()
        let expiring = handlers
        lock.unlock()
        for (_, handler) in expiring { handler() }
        lock.lock(); defer { lock.unlock() }
        return expiring.keys.allSatisfy { handlers[$0] == nil }
    }

    private struct Fake: BackgroundTask {
        let id: Int
        let tasks: FakeBackgroundTasks
        func end() { tasks.end(id) }
    }
}

/// A secure item in memory that notes how many background tasks ran at each write.
private final class TaskNotingItem: SecureItem, @unchecked Sendable {
    private let tasks: FakeBackgroundTasks
    private let lock = NSLock()
    private var data: Data?
    private var failing = false
    private var seen: [Int] = []

    init(_ tasks: FakeBackgroundTasks) { self.tasks = tasks }

    var failWrites: Bool {
        get { lock.lock(); defer { lock.unlock() }; return failing }
        set { lock.lock(); failing = newValue; lock.unlock() }
    }
    var tasksAtWrites: [Int] { lock.lock(); defer { lock.unlock() }; return seen }
    var tokens: Tokens? {
        lock.lock(); defer { lock.unlock() }
        guard let data else { return nil }
        return try? SecureItemTokenStore(item: Fixed(data)).load()
    }

    func read() throws -> Data? { lock.lock(); defer { lock.unlock() }; return data }

    func write(_ data: Data) throws {
        let running = tasks.running
        lock.lock(); defer { lock.unlock() }
        if failing { throw SecureItemError.failed(status: -1) }
        seen.append(running)
        self.data = data
    }

    func delete() throws { lock.lock(); data = nil; lock.unlock() }

    /// Bytes to decode through the store's own coding.
    private struct Fixed: SecureItem {
        let data: Data
        init(_ data: Data) { self.data = data }
        func read() throws -> Data? { data }
        func write(_ data: Data) throws {}
        func delete() throws {}
    }
}
