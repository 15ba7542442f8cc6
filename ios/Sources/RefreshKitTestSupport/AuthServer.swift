import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit

/// Test support shared by the tests and the benchmark: the local auth server process on
/// a free loopback port, stores and a recording listener.

/// The local auth server process on a free loopback port.
public final class AuthServer: @unchecked Sendable {
    private let process = Process()
    public let port: Int

    public init(_ arguments: [String] = []) throws {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let binary = ProcessInfo.processInfo.environment["REFRESHKIT_AUTH_SERVER"]
            ?? root.appendingPathComponent("target/debug/auth-server").path
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", "0", "--exit-on-stdin-eof"] + arguments
        process.standardOutput = output
        process.standardInput = Pipe()
        try process.run()
        // Byte by byte: the server keeps its stdout open, so nothing may read past the line.
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != UInt8(ascii: "\n") {
            line.append(first)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let port = text.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw URLError(.cannotConnectToHost)
        }
        self.port = port
    }

    deinit {
        // No waitUntilExit: on Linux it needs a run loop that async tests do not have.
        // The server also exits by itself when its stdin (held by this process) closes.
        process.terminate()
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func login() async throws -> Tokens {
        let json = try await call("POST", "/login", body: "{}")
        return Tokens(accessToken: json["access_token"] as! String, refreshToken: json["refresh_token"] as? String)
    }

    public func stat(_ name: String) async throws -> Int {
        (try await call("GET", "/control/stats"))[name] as! Int
    }

    /// The bearer tokens `/held` received, in order. Compare them, never print them.
    public func heldSeen() async throws -> [String] {
        (try await call("GET", "/control/stats"))["held_seen"] as? [String] ?? []
    }

    /// Lets the requests held at `/held` go on (each then answers like `/api/resource`).
    public func releaseHeld() async throws {
        _ = try await call("POST", "/control/release-held", body: "{}")
    }

    public func expireAll() async throws {
        _ = try await call("POST", "/control/expire-all", body: "{}")
    }

    /// With `--dpop-nonce`: the next proofs need a new nonce.
    public func rotateNonce() async throws {
        _ = try await call("POST", "/control/dpop-rotate-nonce", body: "{}")
    }

    public func fault(_ json: String) async throws {
        _ = try await call("POST", "/control/fault", body: json)
    }

    /// Opens a gated fault.
    public func release() async throws {
        _ = try await call("POST", "/control/release", body: "{}")
    }

    /// The login endpoint's answer as received: an OAuth token response's JSON.
    public func loginAnswer() async throws -> Data {
        try await send("POST", "/login", body: "{}")
    }

    private func call(_ method: String, _ path: String, body: String? = nil) async throws -> [String: Any] {
        let data = try await send(method, path, body: body)
        if data.isEmpty { return [:] }
        return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    private func send(_ method: String, _ path: String, body: String?) async throws -> Data {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        return try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, _, error in
                if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: data ?? Data()) }
            }.resume()
        }
    }
}

/// An in-memory store whose calls can be made to throw.
public final class FlakyStore: TokenStore, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Tokens?
    private var loadError: Error?
    private var saveError: Error?
    private var clearError: Error?

    public init(_ tokens: Tokens? = nil) { stored = tokens }

    public var tokens: Tokens? { lock.lock(); defer { lock.unlock() }; return stored }

    public func failLoad(_ error: Error?) { lock.lock(); loadError = error; lock.unlock() }

    /// Makes `save` throw `error` (a locked Keychain, a full disk) until called with nil.
    public func failSave(_ error: Error?) { lock.lock(); saveError = error; lock.unlock() }

    /// Makes `clear` throw `error` until called with nil.
    public func failClear(_ error: Error?) { lock.lock(); clearError = error; lock.unlock() }

    public func load() throws -> Tokens? {
        lock.lock(); defer { lock.unlock() }
        if let loadError { throw loadError }
        return stored
    }

    public func save(tokens: Tokens) throws {
        lock.lock(); defer { lock.unlock() }
        if let saveError { throw saveError }
        stored = tokens
    }

    public func clear() throws {
        lock.lock(); defer { lock.unlock() }
        if let clearError { throw clearError }
        stored = nil
    }
    public func refreshLock() -> RefreshLock? { nil }
}

/// Records events in order.
public final class Recorder: SessionListener, @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [SessionEvent] = []

    public init() {}

    public var events: [SessionEvent] { lock.lock(); defer { lock.unlock() }; return seen }

    public func onEvent(event: SessionEvent) throws { lock.lock(); seen.append(event); lock.unlock() }

    /// Waits (bounded) until `done` holds.
    /// The events once `done` holds for them; throws when that never comes.
    public func wait(until done: ([SessionEvent]) -> Bool) async throws -> [SessionEvent] {
        try await eventually("the listener to hear the expected events") { done(events) }
        return events
    }
}

public func recipeConfig(_ baseURL: String) -> SessionConfig {
    SessionConfig(
        baseUrl: baseURL,
        refreshPath: "/app/renewal",
        refreshProtocol: .json(
            refreshTokenField: "refreshToken",
            extraFields: ["authorization": "demo-client-credential"],
            accessTokenPointer: "/data/token",
            refreshTokenPointer: "/data/refreshToken",
            expiresInPointer: nil
        ),
        expiredStatuses: [],
        expiredBodyRule: BodyRule(pointer: "/code", values: ["1002"])
    )
}
