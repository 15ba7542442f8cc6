import Foundation

/// `Tokens` as JSON, the shape the Swift stores have always written:
///
/// ```json
/// {"accessToken": "…", "refreshToken": "…", "expiresAtMs": 1767225600000,
///  "idToken": "…", "scope": "openid", "tokenType": "Bearer"}
/// ```
///
/// Only `accessToken` is required; an absent field is nil and a nil field is left out.
/// `expiresAtMs` counts milliseconds since 1970, so the expiry keeps its millisecond.
/// Unknown fields are ignored. Text that is not JSON, a field of the wrong type, or a
/// missing or empty `accessToken` throws `DecodingError`. The JSON holds the tokens
/// themselves: keep it where the tokens may be (the Keychain), never in a log.
extension Tokens: Codable {
    private enum CodingKeys: String, CodingKey {
        case accessToken, refreshToken, expiresAtMs, idToken, scope, tokenType
    }

    public init(from decoder: Decoder) throws {
        let json = try decoder.container(keyedBy: CodingKeys.self)
        let accessToken = try json.decode(String.self, forKey: .accessToken)
        guard !accessToken.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .accessToken, in: json, debugDescription: "the access token is empty")
        }
        self.init(
            accessToken: accessToken,
            refreshToken: try json.decodeIfPresent(String.self, forKey: .refreshToken),
            expiresAt: try json.decodeIfPresent(Int64.self, forKey: .expiresAtMs).map { Date(timeIntervalSince1970: Double($0) / 1000) },
            idToken: try json.decodeIfPresent(String.self, forKey: .idToken),
            scope: try json.decodeIfPresent(String.self, forKey: .scope),
            tokenType: try json.decodeIfPresent(String.self, forKey: .tokenType)
        )
    }

    public func encode(to encoder: Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(accessToken, forKey: .accessToken)
        try json.encodeIfPresent(refreshToken, forKey: .refreshToken)
        try json.encodeIfPresent(expiresAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }, forKey: .expiresAtMs)
        try json.encodeIfPresent(idToken, forKey: .idToken)
        try json.encodeIfPresent(scope, forKey: .scope)
        try json.encodeIfPresent(tokenType, forKey: .tokenType)
    }
}

/// How the Swift stores put `Tokens` into bytes: their JSON (`Codable` above).
enum TokenCoding {
    static func encode(_ tokens: Tokens) throws -> Data {
        try JSONEncoder().encode(tokens)
    }

    /// `nil` for bytes that are not tokens: they can never become readable, so the user
    /// signs in again rather than staying stuck.
    static func decode(_ data: Data) -> Tokens? {
        try? JSONDecoder().decode(Tokens.self, from: data)
    }
}
