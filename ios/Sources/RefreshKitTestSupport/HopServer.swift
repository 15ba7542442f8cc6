import Foundation
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A small HTTP/1.1 server for redirect and cancellation tests, which the auth server
/// does not cover (it redirects with 302 only). It listens on every IPv4 address, so one
/// server is reachable as `127.0.0.1`, as `localhost` (another host to the session) and
/// as the machine's non-loopback address, and records the headers of every request.
///
/// - `/redirect?status=N&to=URL`: answers N with `Location: URL`.
/// - `/status/N`: answers N.
/// - `/code1002`: answers 200 `{"code": 1002}`.
/// - `/hang`: answers only after 10 s, unless the client closes the connection first.
/// - anything else: 200 `{}`.
public final class HopServer: @unchecked Sendable {
    public struct Received: Sendable {
        public let path: String
        /// Header names in lower case.
        public let headers: [String: String]
    }

    public let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var seen: [Received] = []
    private var abandoned = 0

    public init() throws {
        let fd = socket(AF_INET, Self.stream, 0)
        listener = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = INADDR_ANY
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 128) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw URLError(.cannotConnectToHost) }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [weak self] in
            while true {
                let connection = accept(fd, nil, nil)
                guard connection >= 0, let self else { return }
                Thread.detachNewThread { self.serve(connection) }
            }
        }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Every request received so far, in order.
    public var requests: [Received] { lock.lock(); defer { lock.unlock() }; return seen }

    /// `/hang` requests whose client closed the connection before the answer.
    public var abandonedHangs: Int { lock.lock(); defer { lock.unlock() }; return abandoned }

    /// Waits (bounded, as `eventually`) until `done` holds; false if it never did.
    public func wait(until done: (HopServer) -> Bool) async -> Bool {
        (try? await eventually("the hop server's condition") { done(self) }) != nil
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        guard let (target, headers) = readHead(connection) else { return }
        let url = URLComponents(string: "http://h" + target)
        let path = url?.path ?? target
        lock.lock(); seen.append(Received(path: path, headers: headers)); lock.unlock()
        let query = Dictionary((url?.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { $1 }
        switch path {
        case "/redirect":
            respond(connection, Int(query["status"] ?? "") ?? 302, extra: "Location: \(query["to"] ?? "/")\r\n")
        case "/code1002":
            respond(connection, 200, body: #"{"code": 1002}"#)
        case "/hang":
            var poller = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            var byte: UInt8 = 0
            if poll(&poller, 1, 10_000) > 0, recv(connection, &byte, 1, 0) <= 0 {
                lock.lock(); abandoned += 1; lock.unlock()
                return
            }
            respond(connection, 200)
        default:
            if path.hasPrefix("/status/"), let status = Int(path.dropFirst("/status/".count)) {
                respond(connection, status, body: #"{"error": "status"}"#)
            } else {
                respond(connection, 200)
            }
        }
    }

    /// The request target and headers; the body (GET only here) is not read.
    private func readHead(_ connection: Int32) -> (String, [String: String])? {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.range(of: Data("\r\n\r\n".utf8)) == nil, data.count < 65_536 {
            let n = recv(connection, &buffer, buffer.count, 0)
            guard n > 0 else { return nil }
            data.append(contentsOf: buffer[0..<n])
        }
        let lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (String(parts[1]), headers)
    }

    private func respond(_ connection: Int32, _ status: Int, extra: String = "", body: String = "{}") {
        let text = "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\(extra)\r\n\(body)"
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Self.noSignal) }
            guard n > 0 else { return }
            sent += n
        }
    }

    #if os(Linux)
    private static let stream = Int32(SOCK_STREAM.rawValue)
    private static let noSignal = Int32(MSG_NOSIGNAL)
    #else
    private static let stream = SOCK_STREAM
    private static let noSignal: Int32 = 0
    #endif

    /// This machine's first IPv4 address that is not loopback, if it has one.
    public static func nonLoopbackIPv4() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var next = list
        while let entry = next {
            defer { next = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            let ip = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            var copy = ip
            inet_ntop(AF_INET, &copy, &text, socklen_t(text.count))
            let string = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if !string.hasPrefix("127.") { return string }
        }
        return nil
    }
}
