package dev.refreshkit.test

import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionState
import dev.refreshkit.Tokens
import dev.refreshkit.softwareDpopKey
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import okhttp3.Request
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * A DPoP-bound session through the Kotlin bindings against panva's oidc-provider
 * (tests/oidc/provider.mjs, what tests/all/oidc_provider.rs runs): DPoP-bound tokens,
 * nonces required, and a userinfo endpoint (`/me`) that checks the key binding, `ath`,
 * the nonce and replays of every proof.
 */
class OidcProviderDpopTest {
    @Test
    fun `a DPoP session signed in at oidc-provider is served by userinfo and refreshes once for a concurrent burst`() = runBlocking {
        OidcProvider().use { provider ->
            signedIn(provider).use { (session, first) ->
                assertEquals("alice", userinfoSub(session))

                provider.expire(first.accessToken)
                val before = provider.stats()
                val statuses = withContext(Dispatchers.IO) {
                    (1..BURST).map { async { session.execute(HttpRequest(url = "/me")).status.toInt() } }.awaitAll()
                }

                assertEquals(List(BURST) { 200 }, statuses)
                assertOneRefreshAndEveryCallServed(since(before, provider.stats()))
                assertNotEquals(first.accessToken, session.accessToken(), "the refreshed access token is used")
                assertEquals(1uL, session.metrics().refreshes)
                assertEquals(SessionState.ACTIVE, session.state())
            }
        }
    }

    @Test
    fun `OkHttp calls of a DPoP session are served by oidc-provider's userinfo and refresh once for a concurrent burst`() = runBlocking {
        OidcProvider().use { provider ->
            signedIn(provider).use { (session, first) ->
                val http = dpopClient(session)
                val me = Request.Builder().url(provider.url("/me")).build()
                val body = withContext(Dispatchers.IO) {
                    http.newCall(me).execute().use { response ->
                        assertEquals(200, response.code, "userinfo refused: ${response.header("WWW-Authenticate")}")
                        response.body!!.string()
                    }
                }
                assertEquals("alice", OidcProvider.jsonString(body, "sub"))

                provider.expire(first.accessToken)
                val before = provider.stats()
                val codes = withContext(Dispatchers.IO) { http.codesOf(List(BURST) { me }) }

                assertEquals(List(BURST) { 200 }, codes)
                assertOneRefreshAndEveryCallServed(since(before, provider.stats()))
                assertNotEquals(first.accessToken, session.accessToken(), "the refreshed access token is used")
                assertEquals(1uL, session.metrics().refreshes)
                http.dispatcher.executorService.shutdown()
            }
        }
    }

    /** A session with a software key, signed in as `alice` through the front channel and the code exchange. */
    private suspend fun signedIn(provider: OidcProvider): SignedIn {
        val session = Session.withDpop(provider.config(), FlakyStore(), softwareDpopKey())
        try {
            val tokens = provider.logIn(session)
            assertEquals("DPoP", tokens.tokenType, "the provider bound the tokens to the key")
            assertNotNull(tokens.refreshToken, "offline_access gave a refresh token")
            session.signIn(tokens)
            return SignedIn(session, tokens)
        } catch (e: Throwable) {
            session.close()
            throw e
        }
    }

    private data class SignedIn(val session: Session, val tokens: Tokens) : AutoCloseable {
        override fun close() = session.close()
    }

    private suspend fun userinfoSub(session: Session): String? {
        val response = session.execute(HttpRequest(url = "/me"))
        val challenge = response.headers.firstOrNull { it.name.equals("www-authenticate", ignoreCase = true) }?.value
        assertEquals(200, response.status.toInt(), "userinfo refused the request: $challenge")
        return OidcProvider.jsonString(String(response.body), "sub")
    }

    /** Exactly one refresh, every call of the burst served, no refused proof and no failed refresh. */
    private fun assertOneRefreshAndEveryCallServed(changed: Map<String, Long>) {
        assertEquals(1L, changed["token refresh_token 200"], "exactly one refresh: $changed")
        assertEquals(BURST.toLong(), changed["userinfo 200"], "every call served: $changed")
        val expected = setOf("token refresh_token 200", "userinfo 200", "userinfo 401 invalid_token")
        assertTrue(expected.containsAll(changed.keys), "no refused proof, no failed refresh: $changed")
    }

    /** The counts that changed since [before]. */
    private fun since(before: Map<String, Long>, after: Map<String, Long>): Map<String, Long> =
        after.mapValues { (k, v) -> v - (before[k] ?: 0) }.filterValues { it > 0 }

    private companion object {
        const val BURST = 20
    }
}
