import Foundation

/// How the Swift stores put `Tokens` into bytes: JSON with the expiry in milliseconds.
enum TokenCoding {
    private struct Stored: Codable {
        var accessToken: String
        var refreshToken: String?
        var expiresAtMs: Int64?
        var idToken: String?
        var scope: String?
        var tokenType: String?
    }

    static func encode(_ tokens: Tokens) throws -> Data {
        let stored = Stored(
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            expiresAtMs: tokens.expiresAt.map { Int64($0.timeIntervalSince1970 * 1000) },
            idToken: tokens.idToken,
            scope: tokens.scope,
            tokenType: tokens.tokenType
        )
        return try JSONEncoder().encode(stored)
    }

    /// `nil` for bytes that are not tokens: they can never become readable, so the user
    /// signs in again rather than staying stuck.
    static func decode(_ data: Data) -> Tokens? {
        guard let stored = try? JSONDecoder().decode(Stored.self, from: data) else { return nil }
        return Tokens(
            accessToken: stored.accessToken,
            refreshToken: stored.refreshToken,
            expiresAt: stored.expiresAtMs.map { Date(timeIntervalSince1970: Double($0) / 1000) },
            idToken: stored.idToken,
            scope: stored.scope,
            tokenType: stored.tokenType
        )
    }
}
