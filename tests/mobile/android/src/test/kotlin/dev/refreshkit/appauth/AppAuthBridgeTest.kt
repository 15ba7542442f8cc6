package dev.refreshkit.appauth

import android.net.Uri
import dev.refreshkit.HttpRequest
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionState
import dev.refreshkit.TokenStore
import dev.refreshkit.Tokens
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.test.AuthServer
import java.time.Instant
import kotlinx.coroutines.runBlocking
import net.openid.appauth.AuthState
import net.openid.appauth.AuthorizationException
import net.openid.appauth.AuthorizationServiceConfiguration
import net.openid.appauth.GrantTypeValues
import net.openid.appauth.TokenRequest
import net.openid.appauth.TokenResponse
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner

/** AppAuth-Android's token response and AuthState into refreshkit: the fields, and a session that refreshes them. */
@RunWith(RobolectricTestRunner::class)
class AppAuthBridgeTest {
    private val login = AuthorizationServiceConfiguration(
        Uri.parse("https://login.example.com/authorize"),
        Uri.parse("https://login.example.com/token"),
    )

    /** What AppAuth's code exchange gives an app. */
    private fun exchanged(access: String, refresh: String?, expiresAtMillis: Long?): TokenResponse {
        val request = TokenRequest.Builder(login, "client-1")
            .setGrantType(GrantTypeValues.AUTHORIZATION_CODE)
            .setAuthorizationCode("code-1")
            .setRedirectUri(Uri.parse("com.example.app:/callback"))
            .build()
        return TokenResponse.Builder(request)
            .setTokenType("Bearer")
            .setAccessToken(access)
            .setRefreshToken(refresh)
            .setAccessTokenExpirationTime(expiresAtMillis)
            .setIdToken("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyIn0.")
            .setScope("openid profile")
            .build()
    }

    @Test fun `an AppAuth token response becomes Tokens with every field, the expiry absolute`() {
        val response = exchanged("access-1", "refresh-1", 1_900_000_000_000L)
        val tokens = response.toTokens()
        assertEquals(
            Tokens(
                accessToken = "access-1",
                refreshToken = "refresh-1",
                expiresAt = Instant.ofEpochMilli(1_900_000_000_000L),
                idToken = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyIn0.",
                scope = response.scope,
                tokenType = "Bearer",
            ),
            tokens,
        )
        assertTrue("both scopes kept: ${response.scope}", response.scope!!.split(' ').containsAll(listOf("openid", "profile")))
        assertEquals(null, exchanged("access-2", null, null).toTokens().expiresAt)
    }

    @Test fun `an AuthState kept by the app signs a session in, and refreshkit refreshes with its refresh token`() = runBlocking {
        AuthServer().use { server ->
            val issued = server.login()
            val state = AuthState(login).apply {
                update(exchanged(issued.accessToken, issued.refreshToken, Instant.now().plusSeconds(3600).toEpochMilli()), null)
            }
            // As an app that kept it in SharedPreferences reads it back.
            val kept = AuthState.jsonDeserialize(state.jsonSerializeString())
            ObservableSession(SessionConfig(baseUrl = server.baseUrl), MemoryStore()).use { session ->
                session.signIn(kept)
                assertEquals(SessionState.ACTIVE, session.state.value)
                assertEquals(200, session.execute(HttpRequest(url = "/api/resource")).status.toInt())
                server.expireAll()
                assertEquals(200, session.execute(HttpRequest(url = "/api/resource")).status.toInt())
                assertEquals("AppAuth's refresh token renewed the access token", 1L, server.stat("refreshes"))
            }
        }
    }

    @Test fun `an AuthState with no access token is refused with IllegalArgumentException`() {
        assertThrows(IllegalArgumentException::class.java) { AuthState(login).toTokens() }
        val failed = AuthState(login).apply {
            update(exchanged("access-3", "refresh-3", null), null)
            update(null as TokenResponse?, AuthorizationException.TokenRequestErrors.INVALID_GRANT)
        }
        val error = assertThrows(IllegalArgumentException::class.java) { failed.toTokens() }
        assertFalse("no token in the message", error.message!!.contains("access-3"))
    }

    private class MemoryStore : TokenStore {
        @Volatile private var tokens: Tokens? = null
        override fun load(): Tokens? = tokens
        override fun save(tokens: Tokens) { this.tokens = tokens }
        override fun clear() { tokens = null }
        override fun refreshLock() = null
    }
}
