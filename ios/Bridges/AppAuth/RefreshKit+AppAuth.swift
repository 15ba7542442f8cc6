// RefreshKit + AppAuth-iOS: hand the tokens of an AppAuth sign-in to a refreshkit Session.
//
// Not part of the RefreshKit package (SwiftPM has no optional dependencies, and AppAuth is
// Apple-only Objective-C): copy this file into an app that depends on both. AppAuth does
// the sign-in (the browser, PKCE, the code exchange); refreshkit takes over from there.
// Hand over once, then stop using `performActionWithFreshTokens` on that OIDAuthState:
// two refreshers spend one rotating refresh token twice, and the server then ends the grant.
//
// scripts/swift-keychain-checks.sh compiles this file against a stub of the AppAuth types
// it uses (ios/Stubs/AppAuthCore) and runs checks of the mapping (ios/Tests/KeychainChecks/
// AppAuthChecks.swift), with a sign-in against the auth server.
#if canImport(AppAuthCore)
import AppAuthCore
#else
import AppAuth
#endif
import Foundation
import RefreshKit

extension Tokens {
    /// The tokens of an AppAuth token response: the authorization-code exchange's
    /// (`OIDAuthorizationService.perform(_:callback:)`), or the `lastTokenResponse` of an
    /// `OIDAuthState`. `accessTokenExpirationDate` is the expiry AppAuth counted from the
    /// response's `expires_in` when it arrived. Throws `SessionError.invalidRequest` when
    /// the response has no access token (as `signIn` would).
    public init(_ response: OIDTokenResponse) throws {
        guard let accessToken = response.accessToken, !accessToken.isEmpty else {
            throw SessionError.invalidRequest(detail: "the AppAuth token response has no access token")
        }
        self.init(
            accessToken: accessToken,
            refreshToken: response.refreshToken,
            expiresAt: response.accessTokenExpirationDate,
            idToken: response.idToken,
            scope: response.scope,
            tokenType: response.tokenType
        )
    }

    /// The tokens of an authorized `OIDAuthState`: its last token response, with the
    /// state's newest refresh token and scope (a refresh response may leave them out).
    /// Throws `SessionError.invalidRequest` when the state has no token response yet
    /// (the implicit flow, or an authorization whose code was not exchanged).
    public init(_ authState: OIDAuthState) throws {
        guard let response = authState.lastTokenResponse else {
            throw SessionError.invalidRequest(detail: "the AppAuth state has no token response")
        }
        try self.init(response)
        refreshToken = authState.refreshToken ?? refreshToken
        scope = authState.scope ?? scope
    }
}

extension Session {
    /// Signs in with the tokens of an AppAuth sign-in (`Tokens(authState)`, then
    /// `signIn(tokens:)`): saved through the store, then used for every request.
    public func signIn(with authState: OIDAuthState) async throws {
        try await signIn(tokens: Tokens(authState))
    }
}
