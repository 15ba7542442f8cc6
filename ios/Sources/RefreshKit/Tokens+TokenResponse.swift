import Foundation

extension Tokens {
    /// The tokens of a token endpoint's success answer (RFC 6749 section 5.1), as your own
    /// login received it: `access_token`, `refresh_token`, `expires_in` (counted from now,
    /// so call this when the answer arrives), `id_token`, `scope`, `token_type`. Hand them
    /// to `signIn`. Throws `SessionError.invalidResponse` when `tokenResponse` is not a
    /// token response; the error never contains a token.
    public init(tokenResponse: Data) throws {
        self = try tokensFromTokenResponse(body: tokenResponse)
    }
}
