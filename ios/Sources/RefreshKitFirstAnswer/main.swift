// One sample of BENCHMARKS.md section 4b, in a fresh process that RefreshKitBench starts:
// one GET on loopback, the store already holding the tokens (a returning user's launch).
// Usage: RefreshKitFirstAnswer refreshkit|urlsession BASE_URL ACCESS_TOKEN REFRESH_TOKEN
// Prints CLOCK_MONOTONIC at the first answer (the parent compares it with its own) and
// the nanoseconds from main's start to it. The dynamic loader maps librefreshkit.so
// before main runs, so that part of loading is only in the parent's figure.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit

func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

let started = monotonicNanos()

/// The tokens a returning user's store holds.
final class SignedInStore: TokenStore, @unchecked Sendable {
    private let lock = NSLock()
    private var tokens: Tokens?
    init(_ tokens: Tokens) { self.tokens = tokens }
    func load() throws -> Tokens? { lock.lock(); defer { lock.unlock() }; return tokens }
    func save(tokens: Tokens) throws { lock.lock(); self.tokens = tokens; lock.unlock() }
    func clear() throws { lock.lock(); tokens = nil; lock.unlock() }
    func refreshLock() -> RefreshLock? { nil }
}

let arguments = CommandLine.arguments
guard arguments.count == 5 else { fatalError("usage: RefreshKitFirstAnswer refreshkit|urlsession BASE_URL ACCESS REFRESH") }
let (client, baseURL, access, refresh) = (arguments[1], arguments[2], arguments[3], arguments[4])

let status: Int
if client == "refreshkit" {
    let store = SignedInStore(Tokens(accessToken: access, refreshToken: refresh))
    let session = try Session(config: SessionConfig(baseUrl: baseURL), store: store)
    status = Int(try await session.execute(HttpRequest(url: "/api/resource")).status)
} else {
    var request = URLRequest(url: URL(string: "\(baseURL)/api/resource")!)
    request.setValue("Bearer \(access)", forHTTPHeaderField: "Authorization")
    status = try await withCheckedThrowingContinuation { continuation in
        URLSession.shared.dataTask(with: request) { _, response, error in
            if let error { continuation.resume(throwing: error) } else {
                continuation.resume(returning: (response as? HTTPURLResponse)?.statusCode ?? 0)
            }
        }.resume()
    }
}
let answered = monotonicNanos()
guard status == 200 else { fatalError("status \(status)") }
print("\(answered) \(answered - started)")
