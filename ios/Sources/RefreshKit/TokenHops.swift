import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A task's delegate that asks the core about every redirect hop: URLSession copies the
/// original headers (custom ones on Apple platforms; on Linux even Authorization) to the
/// next hop, whatever its host or scheme.
final class TokenHops: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    private let session: Session
    private let token: String
    private let headerName: String
    private let lock = NSLock()
    private var carried = true

    init(session: Session, token: String, headerName: String) {
        self.session = session
        self.token = token
        self.headerName = headerName
    }

    /// Whether the latest hop carried the token.
    var carriedToken: Bool { lock.lock(); defer { lock.unlock() }; return carried }

    func urlSession(
        _ urlSession: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        var next = request
        // Exactly the header this layer added; the app's other headers are its own business.
        next.setValue(nil, forHTTPHeaderField: headerName)
        let header = next.url.flatMap { session.tokenHeaderFor(url: $0.absoluteString, accessToken: token) }
        if let header { next.setValue(header.value, forHTTPHeaderField: header.name) }
        lock.lock(); carried = header != nil; lock.unlock()
        completionHandler(next)
    }
}

/// The data task of one call, cancelled with the calling Task, even when the
/// cancellation comes before the task exists.
final class DataTaskHandle: @unchecked Sendable {
    private let lock = NSLock()
    private var task: URLSessionTask?
    private var cancelled = false

    var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    func start(_ task: URLSessionTask) {
        lock.lock()
        self.task = task
        let cancelled = self.cancelled
        lock.unlock()
        task.resume()
        if cancelled { task.cancel() }
    }

    func cancel() {
        lock.lock()
        cancelled = true
        let task = self.task
        lock.unlock()
        task?.cancel()
    }
}
