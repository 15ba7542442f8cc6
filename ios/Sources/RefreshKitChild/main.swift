// A separate process running a session over a `FileTokenStore`, for ProcessesTests: the
// Swift twin of tests/session-child (an app and its extension sharing one store).
//
// Usage: RefreshKitChild BASE_URL STORE_PATH REQUESTS
// Reads the store, prints `ready`, waits for a line on stdin (so every process starts
// together), sends REQUESTS concurrent requests and prints
// `ok=N expired=N errors=N refreshes=N` and, after errors, the first one's text.
import Foundation
import RefreshKit

/// Unbuffered, so the test sees each line as soon as it is printed.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

enum Outcome: Sendable {
    case ok, expired, error(String)
}

/// `requests` concurrent requests, each one's outcome.
func burst(_ session: Session, _ requests: Int) async -> [Outcome] {
    await withTaskGroup(of: Outcome.self) { group in
        for _ in 0..<requests {
            group.addTask {
                do {
                    let response = try await session.execute(HttpRequest(url: "/api/resource"))
                    return response.status == 200 ? .ok : .error("status \(response.status)")
                } catch SessionError.sessionExpired {
                    return .expired
                } catch {
                    return .error("\(error)")
                }
            }
        }
        return await group.reduce(into: [Outcome]()) { $0.append($1) }
    }
}

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 3, let requests = Int(arguments[arguments.startIndex + 2]) else {
    FileHandle.standardError.write(Data("usage: RefreshKitChild BASE_URL STORE_PATH REQUESTS\n".utf8))
    exit(2)
}
let baseURL = arguments[arguments.startIndex]
let path = arguments[arguments.startIndex + 1]

let session: Session
do {
    session = try Session(config: SessionConfig(baseUrl: baseURL), store: FileTokenStore(url: URL(fileURLWithPath: path)))
} catch {
    say("error \(error)")
    exit(1)
}
_ = await session.restoredState()
say("ready")
_ = readLine()

let outcomes = await burst(session, requests)

var (ok, expired, errors, firstError) = (0, 0, 0, String?.none)
for outcome in outcomes {
    switch outcome {
    case .ok: ok += 1
    case .expired: expired += 1
    case .error(let text):
        errors += 1
        if firstError == nil { firstError = text }
    }
}
say("ok=\(ok) expired=\(expired) errors=\(errors) refreshes=\(session.metrics().refreshes)")
if let firstError { say("first error: \(firstError)") }
