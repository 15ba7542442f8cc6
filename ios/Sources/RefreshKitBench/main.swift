// The Swift rows of BENCHMARKS.md: Session.execute through the Swift bindings against
// URLSession (FoundationNetworking on Linux) on the same endpoint, at concurrency 1
// (median latency) and 64 (throughput). Run by scripts/bench.sh; prints Markdown.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit
import RefreshKitTestSupport

let repeats = 5

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

func urlSessionGet(_ request: URLRequest) async throws -> Int {
    try await withCheckedThrowingContinuation { continuation in
        URLSession.shared.dataTask(with: request) { data, _, error in
            if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: data?.count ?? 0) }
        }.resume()
    }
}

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Requests per second from 64 callers looping for one second.
func throughput(_ call: @escaping @Sendable () async throws -> Void) async throws -> Double {
    let deadline = DispatchTime.now().uptimeNanoseconds + 1_000_000_000
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<64 {
            group.addTask {
                var done = 0
                while DispatchTime.now().uptimeNanoseconds < deadline {
                    try await call()
                    done += 1
                }
                return done
            }
        }
        return try await group.reduce(0, +)
    }
    return Double(total)
}

let server = try AuthServer()
let tokens = try await server.login()
let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore())
try await session.signIn(tokens: tokens)
var plain = URLRequest(url: URL(string: "\(server.baseURL)/api/resource")!)
plain.setValue("Bearer \(tokens.accessToken)", forHTTPHeaderField: "Authorization")
let request = plain
let viaURLSession: @Sendable () async throws -> Void = { _ = try await urlSessionGet(request) }
let viaSession: @Sendable () async throws -> Void = { _ = try await session.execute(HttpRequest(url: "/api/resource")) }

for _ in 0..<200 { try await viaURLSession(); try await viaSession() }  // warm-up

var latency: [String: [Double]] = ["URLSession": [], "Session.execute": []]
for _ in 0..<repeats {
    var a: [Double] = [], b: [Double] = []
    for _ in 0..<300 {
        a.append(try await seconds { try await viaURLSession() } * 1e6)
        b.append(try await seconds { try await viaSession() } * 1e6)
    }
    latency["URLSession"]!.append(median(a))
    latency["Session.execute"]!.append(median(b))
}
var rate: [String: [Double]] = ["URLSession": [], "Session.execute": []]
for _ in 0..<repeats {
    rate["URLSession"]!.append(try await throughput(viaURLSession))
    rate["Session.execute"]!.append(try await throughput(viaSession))
}

let baseLatency = median(latency["URLSession"]!)
let baseRate = median(rate["URLSession"]!)
print("## 4. From Swift (\(swiftVersion()), FoundationNetworking URLSession)\n")
print("| client | c=1 median latency | vs URLSession | c=64 req/s | vs URLSession |")
print("|---|---:|---:|---:|---:|")
for name in ["URLSession", "Session.execute"] {
    let l = median(latency[name]!), r = median(rate[name]!)
    print(String(format: "| %@ | %.0f µs | %.2f | %.0f | %.2f |", name, l, l / baseLatency, r, r / baseRate))
}
print("")

// Section 4b: a fresh process per sample (RefreshKitFirstAnswer, built beside this one).
func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// (launch to first answer, main's start to first answer) in ms, from one fresh process.
func firstAnswer(_ client: String) throws -> (Double, Double) {
    let child = Process()
    child.executableURL = Bundle.main.executableURL!.deletingLastPathComponent().appendingPathComponent("RefreshKitFirstAnswer")
    child.arguments = [client, server.baseURL, tokens.accessToken, tokens.refreshToken!]
    let output = Pipe()
    child.standardOutput = output
    let launched = monotonicNanos()
    try child.run()
    let line = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let fields = line.split(separator: " ").compactMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    guard fields.count == 2 else { throw URLError(.badServerResponse) }
    return (Double(fields[0] - launched) / 1e6, Double(fields[1]) / 1e6)
}

let clients = [("refreshkit", "Session.execute"), ("urlsession", "URLSession")]
var samples: [String: [(Double, Double)]] = [:]
for _ in 0..<repeats {
    for (client, _) in clients { samples[client, default: []].append(try firstAnswer(client)) }
}
print("## 4b. From a fresh Swift process to the first answer\n")
print("A new process per sample (median of \(repeats), the two clients alternating) sends one GET on")
print("loopback; the session's store already holds the tokens, as at a returning user's launch.")
print("\"main's start\" is taken at the first line of the process's main.swift: the dynamic loader has")
print("mapped librefreshkit.so (and Foundation) before main runs, so that part of loading the library")
print("is only in \"process launch\", taken by the parent just before it starts the process.\n")
print("| client | main's start to first answer | process launch to first answer |")
print("|---|---:|---:|")
for (client, name) in clients {
    let xs = samples[client]!
    print(String(format: "| %@ | %.1f ms | %.1f ms |", name, median(xs.map { $0.1 }), median(xs.map { $0.0 })))
}
print("")

func swiftVersion() -> String {
    #if compiler(>=6.0)
    return "Swift 6 compiler"
    #else
    return "Swift 5 compiler"
    #endif
}
