@file:JvmName("AppAuthTokens")

package dev.refreshkit.appauth

import dev.refreshkit.Tokens
import dev.refreshkit.ktx.ObservableSession
import java.time.Instant
import net.openid.appauth.AuthState
import net.openid.appauth.TokenResponse

// From AppAuth-Android (net.openid:appauth) to refreshkit: AppAuth does the login (the
// browser, PKCE, the code exchange), refreshkit keeps the user signed in from then on.
// AppAuth is a compileOnly dependency: apps that never call these need not have it.
//
// Hand the tokens over once, then stop using AppAuth's performActionWithFreshTokens
// (and delete the AuthState you kept): both would refresh with the same refresh token,
// and a server that rotates refresh tokens ends the session when one is used twice.

/**
 * The tokens of this AppAuth token response (the login's code exchange): the access
 * token, the refresh token, the access token's expiry (AppAuth's absolute
 * `accessTokenExpirationTime`), the ID token, the granted scope and the token type.
 * Throws [IllegalArgumentException] when it has no access token.
 */
fun TokenResponse.toTokens(): Tokens = tokens(
    accessToken = accessToken,
    refreshToken = refreshToken,
    expiresAtMillis = accessTokenExpirationTime,
    idToken = idToken,
    scope = scope,
    tokenType = tokenType,
)

/**
 * The tokens of this AppAuth state: those of its last token response, or of its
 * authorization response when the access token came from there, as AppAuth's own
 * getters read them. Throws [IllegalArgumentException] when it holds no access token
 * (not authorized yet, or its last exchange failed).
 */
fun AuthState.toTokens(): Tokens {
    val fromTokenResponse = lastTokenResponse?.accessToken != null
    return tokens(
        accessToken = accessToken,
        refreshToken = refreshToken,
        expiresAtMillis = accessTokenExpirationTime,
        idToken = idToken,
        scope = scope,
        tokenType = if (fromTokenResponse) lastTokenResponse?.tokenType else lastAuthorizationResponse?.tokenType,
    )
}

/** Signs in with the tokens of AppAuth's [state] (see [AuthState.toTokens]); refreshkit refreshes them from then on. */
suspend fun ObservableSession.signIn(state: AuthState) = signIn(state.toTokens())

/** Signs in with the tokens of AppAuth's [response] (see [TokenResponse.toTokens]); refreshkit refreshes them from then on. */
suspend fun ObservableSession.signIn(response: TokenResponse) = signIn(response.toTokens())

private fun tokens(
    accessToken: String?,
    refreshToken: String?,
    expiresAtMillis: Long?,
    idToken: String?,
    scope: String?,
    tokenType: String?,
): Tokens {
    require(!accessToken.isNullOrEmpty()) { "refreshkit: the AppAuth state has no access token (not authorized, or its last exchange failed)" }
    return Tokens(
        accessToken = accessToken,
        refreshToken = refreshToken,
        expiresAt = expiresAtMillis?.let(Instant::ofEpochMilli),
        idToken = idToken,
        scope = scope,
        tokenType = tokenType,
    )
}
