import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends `URLRequest`s with the session's access token, for apps that keep their own
/// URLSession stack. The session's `SessionConfig` decides everything, as for `execute`:
///
/// - The token goes only where the core allows (`tokenHosts`, https, or http on
///   loopback), in `headerName`/`headerScheme`. Every redirect hop is checked again, and
///   the header is removed on a hop that may not receive it.
/// - Only an answer to a request that carried the token can mean "expired"
///   (`expiredStatuses`, `expiredBodyRule`). Then it asks for a newer token (one refresh
///   for any number of concurrent callers) and sends the request once more, unless its
///   body is an `httpBodyStream`, which cannot be sent twice: that expired answer is
///   returned, and the next call uses the new token.
/// - Requests the token may not go to are sent exactly as given, with the app's headers.
/// - Cancelling the calling Task cancels the data task and throws `CancellationError`.
public struct AuthorizedURLSession: @unchecked Sendable {
    public let session: Session
    public let urlSession: URLSession

    public init(session: Session, urlSession: URLSession = .shared) {
        self.session = session
        self.urlSession = urlSession
    }

    public func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        // Host and scheme decide: no token is fetched (or refreshed) for a request that
        // will not carry it.
        guard let url = request.url?.absoluteString, session.mayReceiveToken(url: url) else {
            return try await send(request, hops: nil).reply
        }
        let token = try await session.accessToken()
        let first = try await send(request, token: token)
        guard first.carriedToken, isExpired(first.reply) else { return first.reply }
        let fresh = try await session.refreshAfterUnauthorized(rejectedAccessToken: token)
        if request.httpBodyStream != nil { return first.reply }
        return try await send(request, token: fresh).reply
    }

    private func isExpired(_ reply: (Data, HTTPURLResponse)) -> Bool {
        let body = session.expiryReadsBody() ? reply.0 : Data()
        return session.isExpiredResponse(status: UInt16(clamping: reply.1.statusCode), body: body)
    }

    private func send(_ request: URLRequest, token: String) async throws -> Sent {
        guard let url = request.url?.absoluteString, let header = session.tokenHeaderFor(url: url, accessToken: token) else {
            throw SessionError.invalidRequest(detail: "the access token cannot be sent in a header")
        }
        var authorized = request
        authorized.setValue(header.value, forHTTPHeaderField: header.name)
        return try await send(authorized, hops: TokenHops(session: session, token: token, headerName: header.name))
    }

    private func send(_ request: URLRequest, hops: TokenHops?) async throws -> Sent {
        try Task.checkCancellation()
        let handle = DataTaskHandle()
        let reply: (Data, HTTPURLResponse) = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let task = urlSession.dataTask(with: request) { data, response, error in
                    if handle.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else if let error {
                        continuation.resume(throwing: error)
                    } else if let http = response as? HTTPURLResponse {
                        continuation.resume(returning: (data ?? Data(), http))
                    } else {
                        continuation.resume(throwing: URLError(.badServerResponse))
                    }
                }
                task.delegate = hops
                handle.start(task)
            }
        } onCancel: {
            handle.cancel()
        }
        return Sent(reply: reply, carriedToken: hops?.carriedToken ?? false)
    }
}

private struct Sent {
    let reply: (Data, HTTPURLResponse)
    /// Whether the request that got `reply` (the last hop) carried the token.
    let carriedToken: Bool
}
