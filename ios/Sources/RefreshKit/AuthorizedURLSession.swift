import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends `URLRequest`s with the session's access token, for apps that keep their own
/// URLSession stack. On a 401 it asks the session for a newer token (one refresh for
/// any number of concurrent 401s) and retries once. Hosts outside `tokenHosts` never
/// see the token.
public struct AuthorizedURLSession: @unchecked Sendable {
    public let session: Session
    public let urlSession: URLSession
    public let tokenHosts: Set<String>
    public let headerName: String
    public let scheme: String

    public init(
        session: Session,
        urlSession: URLSession = .shared,
        tokenHosts: Set<String>,
        headerName: String = "Authorization",
        scheme: String = "Bearer"
    ) {
        self.session = session
        self.urlSession = urlSession
        self.tokenHosts = Set(tokenHosts.map { $0.lowercased() })
        self.headerName = headerName
        self.scheme = scheme
    }

    public func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        guard let host = request.url?.host?.lowercased(), tokenHosts.contains(host) else {
            var bare = request
            bare.setValue(nil, forHTTPHeaderField: headerName)
            return try await send(bare)
        }
        let token = try await session.validAccessToken()
        let (data, response) = try await send(authorized(request, token))
        guard response.statusCode == 401 else { return (data, response) }
        let fresh = try await session.token(replacing: token)
        return try await send(authorized(request, fresh))
    }

    private func authorized(_ request: URLRequest, _ token: String) -> URLRequest {
        var copy = request
        copy.setValue(scheme.isEmpty ? token : "\(scheme) \(token)", forHTTPHeaderField: headerName)
        return copy
    }

    private func send(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        try await withCheckedThrowingContinuation { continuation in
            urlSession.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(throwing: error)
                } else if let http = response as? HTTPURLResponse {
                    continuation.resume(returning: (data ?? Data(), http))
                } else {
                    continuation.resume(throwing: URLError(.badServerResponse))
                }
            }.resume()
        }
    }
}
