import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A task's delegate that asks the core about every redirect hop: URLSession copies the
/// original headers (custom ones on Apple platforms; on Linux even Authorization) to the
/// next hop, whatever its host or scheme. A DPoP proof names one method and URL, so a
/// DPoP-bound token needs a new proof on every hop, which the core makes asynchronously:
/// the hop waits for it.
final class TokenHops: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    let handle = DataTaskHandle()
    private let session: Session
    private let token: String
    private let proof: Bool
    /// The names of the headers this layer added; the app's other headers are its own business.
    private let added: [String]
    private let lock = NSLock()
    private var carried = true
    private var failed: Error?

    init(session: Session, token: String, proof: Bool, added: [String]) {
        self.session = session
        self.token = token
        self.proof = proof
        self.added = added
    }

    /// Whether the latest hop carried the token.
    var carriedToken: Bool { lock.lock(); defer { lock.unlock() }; return carried }

    /// Why a hop got no headers (its redirect was not followed).
    var failure: Error? { lock.lock(); defer { lock.unlock() }; return failed }

    func urlSession(
        _ urlSession: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        var next = request
        for name in added { next.setValue(nil, forHTTPHeaderField: name) }
        let url = next.url?.absoluteString ?? ""
        guard proof else {
            // Bearer: the one header, known without waiting.
            let header = session.tokenHeaderFor(url: url, accessToken: token)
            if let header { next.setValue(header.value, forHTTPHeaderField: header.name) }
            lock.lock(); carried = header != nil; lock.unlock()
            return completionHandler(next)
        }
        // The server's nonce or clock may come with a redirect too.
        if carriedToken { _ = session.answerMeans(response, url: nil, body: Data()) }
        let (session, token, method) = (session, token, next.httpMethod ?? "GET")
        let completion = Completion(completionHandler)
        Task { [next] in
            let headers: Result<[HttpHeader], Error>
            do {
                headers = .success(try await tokenHeaders(session, method: method, url: url, token: token, proof: true))
            } catch {
                headers = .failure(error)
            }
            // Never after a cancel: the task no longer waits for an answer then.
            self.handle.unlessCancelled { completion.call(self.hop(next, headers)) }
        }
    }

    /// `next` with the hop's headers (none where the token may not go); nil (the redirect
    /// is not followed) when the core failed to make them, with its error kept for the caller.
    private func hop(_ next: URLRequest, _ headers: Result<[HttpHeader], Error>) -> URLRequest? {
        lock.lock(); defer { lock.unlock() }
        switch headers {
        case .success(let headers):
            var next = next
            for header in headers { next.setValue(header.value, forHTTPHeaderField: header.name) }
            carried = !headers.isEmpty
            return next
        case .failure(let error):
            failed = error
            return nil
        }
    }
}

/// A redirect's completion handler, handed to the Task that makes the hop's proof.
/// URLSession takes the answer on any thread, once: FoundationNetworking's delegate
/// protocol does not say `@Sendable`, Apple's recent SDKs do.
private struct Completion: @unchecked Sendable {
    let call: (URLRequest?) -> Void
    init(_ call: @escaping (URLRequest?) -> Void) { self.call = call }
}

/// Every header that carries `token` on a `method` request to `url` (empty where it may
/// not go): for a DPoP-bound token (`proof`) with a proof made for this request.
func tokenHeaders(_ session: Session, method: String, url: String, token: String, proof: Bool) async throws -> [HttpHeader] {
    if proof { return try await session.tokenHeadersFor(method: method, url: url, accessToken: token) }
    return session.tokenHeaderFor(url: url, accessToken: token).map { [$0] } ?? []
}

extension Session {
    /// `answerMeans` for an answer URLSession got (from `response.url`, else `url`).
    func answerMeans(_ response: HTTPURLResponse, url: URL?, body: Data) -> AnswerMeaning {
        let headers = response.allHeaderFields.compactMap { name, value in
            (name as? String).map { HttpHeader(name: $0, value: "\(value)") }
        }
        let at = (response.url ?? url)?.absoluteString ?? ""
        return answerMeans(url: at, status: UInt16(clamping: response.statusCode), headers: headers, body: body)
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

    /// Lets the completed task go: it holds its delegate, a `TokenHops` that holds this
    /// handle, so keeping it would keep all three, and the `Session`, for ever.
    func finish() {
        lock.lock(); defer { lock.unlock() }
        task = nil
    }

    /// Cancels under the lock that `unlessCancelled` holds, so a redirect's completion
    /// handler is either called before the cancel reaches the task or not at all
    /// (FoundationNetworking stops the process when a cancelled task gets one).
    func cancel() {
        lock.lock(); defer { lock.unlock() }
        cancelled = true
        task?.cancel()
    }

    /// Runs `body` unless the task was cancelled, with no cancel in between.
    func unlessCancelled(_ body: () -> Void) {
        lock.lock(); defer { lock.unlock() }
        if !cancelled { body() }
    }
}
