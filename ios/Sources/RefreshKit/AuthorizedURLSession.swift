import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends `URLRequest`s with the session's access token, for apps that keep their own
/// URLSession stack. The session's `SessionConfig` decides everything, as for `execute`:
///
/// - The token goes only where the core allows (`tokenHosts`, https, or http on
///   loopback), in `headerName`/`headerScheme`; a DPoP-bound token (RFC 9449) as
///   `DPoP <token>` with a `DPoP` proof the core makes for that one request (method and
///   URL). Every redirect hop is checked again: the headers this layer added are
///   removed, and the core's headers for the hop's own URL and method (a new proof) are
///   added where it may receive the token. When the core cannot make them (the key
///   failed, the session ended), the hop is not followed and the call throws its error.
/// - Only an answer to a request that carried the token can mean "expired"
///   (`expiredStatuses`, `expiredBodyRule`; the core judges it with `answerMeans`). Then
///   it asks for a newer token (one refresh for any number of concurrent callers) and
///   sends the request once more, unless its body is an `httpBodyStream`, which cannot
///   be sent twice: that expired answer is returned, and the next call uses the new token.
/// - A proof the server refused (`WWW-Authenticate: DPoP error="use_dpop_nonce"`) whose
///   answer taught a nonce or the server's clock is never an expired token: the request
///   is sent once more with the same token and a new proof (not a streamed body).
/// - An answer asking for a step-up login (`WWW-Authenticate: Bearer
///   error="insufficient_user_authentication"`, RFC 9470, or `error="insufficient_scope"`,
///   RFC 6750) is no expired token, even as a 401 in `expiredStatuses`: it is returned as
///   it is, nothing refreshed or sent again, and `HTTPURLResponse.stepUpChallenge` reads
///   what it asks for.
/// - Requests the token may not go to are sent exactly as given, with the app's headers.
/// - Cancelling the calling Task cancels the data task and throws `CancellationError`.
/// - A background URLSession (`URLSessionConfiguration.background(withIdentifier:)`) is
///   refused when the client is made: it takes no data tasks with a completion handler,
///   which this layer sends (Apple's URLSession raises an exception for them at the first
///   request). Use a default or ephemeral configuration.
public struct AuthorizedURLSession: @unchecked Sendable {
    public let session: Session
    public let urlSession: URLSession

    /// Sends through `URLSession.shared`.
    public init(session: Session) {
        self.session = session
        self.urlSession = .shared
    }

    /// Sends through `urlSession`; throws `SessionError.invalidConfig` for a background
    /// session (its configuration has an `identifier`).
    public init(session: Session, urlSession: URLSession) throws {
        if let identifier = urlSession.configuration.identifier {
            throw SessionError.invalidConfig(
                detail: "AuthorizedURLSession cannot use the background URLSession \"\(identifier)\": background sessions take no data tasks with a completion handler; use a default or ephemeral configuration"
            )
        }
        self.session = session
        self.urlSession = urlSession
    }

    public func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        // Host and scheme decide: no token is fetched (or refreshed) for a request that
        // will not carry it.
        guard let url = request.url?.absoluteString, session.mayReceiveToken(url: url) else {
            return try await send(request, hops: nil).reply
        }
        let lease = try await session.accessTokenLease()
        let first = try await send(request, lease: lease)
        guard first.meaning == .expired else { return first.reply }
        _ = try await session.refreshAfterUnauthorized(rejectedAccessToken: lease.accessToken)
        if request.httpBodyStream != nil { return first.reply }
        return try await send(request, lease: try await session.accessTokenLease()).reply
    }

    /// Sends with `lease`'s token; once more with a new proof when the server refused the
    /// proof and taught what a new one needs.
    private func send(_ request: URLRequest, lease: TokenLease) async throws -> Sent {
        let sent = try await send(request, token: lease.accessToken, proof: lease.needsProof)
        guard sent.meaning == .newProof, request.httpBodyStream == nil else { return sent }
        return try await send(request, token: lease.accessToken, proof: lease.needsProof)
    }

    private func send(_ request: URLRequest, token: String, proof: Bool) async throws -> Sent {
        guard let url = request.url?.absoluteString else { throw SessionError.invalidRequest(detail: "the request has no URL") }
        let headers = try await tokenHeaders(session, method: request.httpMethod ?? "GET", url: url, token: token, proof: proof)
        guard !headers.isEmpty else {
            throw SessionError.invalidRequest(detail: "the access token cannot be sent in a header")
        }
        var authorized = request
        for header in headers { authorized.setValue(header.value, forHTTPHeaderField: header.name) }
        let hops = TokenHops(session: session, token: token, proof: proof, added: headers.map(\.name))
        return try await send(authorized, hops: hops)
    }

    private func send(_ request: URLRequest, hops: TokenHops?) async throws -> Sent {
        try Task.checkCancellation()
        let handle = hops?.handle ?? DataTaskHandle()
        let reply: (Data, HTTPURLResponse) = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let task = urlSession.dataTask(with: request) { data, response, error in
                    // The task holds its delegate (the hops, which hold the handle and
                    // the session) until it is released: the handle must not hold it.
                    handle.finish()
                    if handle.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else if let failure = hops?.failure {
                        continuation.resume(throwing: failure)
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
        // Only an answer to the token (the last hop carried it) means anything but "served".
        guard let hops, hops.carriedToken else { return Sent(reply: reply, meaning: .served) }
        let body = session.expiryReadsBody() ? reply.0 : Data()
        return Sent(reply: reply, meaning: session.answerMeans(reply.1, url: request.url, body: body))
    }
}

private struct Sent {
    let reply: (Data, HTTPURLResponse)
    /// What the core says the answer means (`.served` when the last hop had no token).
    let meaning: AnswerMeaning
}
