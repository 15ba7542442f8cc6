import Foundation

/// Another OS process that talks in lines: the tests write to its stdin and wait, with a
/// bound, for the lines it prints. A reader thread collects its stdout, so no wait can
/// block past its bound.
public final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var ended = false

    public init(_ executable: URL, _ arguments: [String]) throws {
        let output = Pipe()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let reading = output.fileHandleForReading
        Thread.detachNewThread { [self] in
            var pending = Data()
            while case let data = reading.availableData, !data.isEmpty {
                pending.append(data)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending = Data(pending[pending.index(after: newline)...])
                    condition.lock(); lines.append(line); condition.broadcast(); condition.unlock()
                }
            }
            condition.lock(); ended = true; condition.broadcast(); condition.unlock()
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    public func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// The next line the process prints; throws when none comes within `seconds` or the
    /// process closed its output first.
    public func line(within seconds: Double = 60) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while lines.isEmpty {
            guard !ended else { throw NeverHappened(what: "a line from \(process.executableURL?.lastPathComponent ?? "?") (it ended)") }
            guard condition.wait(until: deadline) else {
                throw NeverHappened(what: "a line from \(process.executableURL?.lastPathComponent ?? "?") within \(seconds) s")
            }
        }
        return lines.removeFirst()
    }

    /// Closes its stdin and waits (bounded) for it to exit.
    public func finish(within seconds: Double = 30) async throws {
        try? input.fileHandleForWriting.close()
        try await eventually("the child process to exit", within: seconds) { !process.isRunning }
    }
}
