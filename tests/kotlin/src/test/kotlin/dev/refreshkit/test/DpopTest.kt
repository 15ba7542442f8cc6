package dev.refreshkit.test

import dev.refreshkit.DpopKey
import dev.refreshkit.ExpiryReason
import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.SessionState
import dev.refreshkit.Tokens
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.softwareDpopKey
import java.util.Base64
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** DPoP through the bindings against `auth-server --dpop-nonce`, which checks every proof. */
class DpopTest {
    private val resource = HttpRequest(url = "/api/resource")

    @Test
    fun `with the software key a burst across an expiry gives one refresh and no refused proof`() =
        burstAcrossAnExpiry(softwareDpopKey())

    @Test
    fun `with a Kotlin key giving DER signatures a burst across an expiry gives one refresh and no refused proof`() =
        burstAcrossAnExpiry(JvmDpopKey())

    private fun burstAcrossAnExpiry(key: DpopKey) = runBlocking {
        AuthServer("--dpop-nonce").use { server ->
            Session.withDpop(SessionConfig(baseUrl = server.baseUrl), FlakyStore(), key).use { session ->
                val tokens = loginWithProof(server, session)
                assertEquals("DPoP", tokens.tokenType, "the server bound the tokens to the key")
                session.signIn(tokens)
                server.expireAll()

                val statuses = withContext(Dispatchers.IO) {
                    (1..BURST).map { async { session.execute(resource).status } }.awaitAll()
                }

                assertEquals(List(BURST) { 200.toUShort() }, statuses)
                assertEquals(1L, server.stat("refreshes"))
                assertEquals(0L, server.stat("dpop_refused"), "no proof was refused")
            }
        }
    }

    @Test
    fun `an ObservableSession with a key signs in bound, refreshes with proofs and publishes its state`() = runBlocking {
        AuthServer("--dpop-nonce").use { server ->
            ObservableSession(SessionConfig(baseUrl = server.baseUrl), FlakyStore(), softwareDpopKey()).use { session ->
                val tokens = server.loginWithProof { nonce -> session.dpopProof("POST", "${server.baseUrl}/login", nonce) }
                assertEquals("DPoP", tokens.tokenType)
                session.signIn(tokens)
                server.expireAll()

                assertEquals(200.toUShort(), session.execute(resource).status)

                assertEquals(1L, server.stat("refreshes"))
                assertEquals(0L, server.stat("dpop_refused"))
                assertEquals(SessionState.ACTIVE, session.state.value)
            }
        }
    }

    @Test
    fun `a key that is gone ends the session as expired with DPOP_KEY_GONE`() = runBlocking {
        AuthServer("--dpop-nonce").use { server ->
            val key = RecordingDpopKey(JvmDpopKey())
            val store = FlakyStore()
            Session.withDpop(SessionConfig(baseUrl = server.baseUrl), store, key).use { session ->
                session.signIn(loginWithProof(server, session))
                assertEquals(200.toUShort(), session.execute(resource).status)

                key.gone = true

                val error = assertThrows<SessionException.SessionExpired> { runBlocking { session.execute(resource) } }
                assertEquals(ExpiryReason.DPOP_KEY_GONE, error.reason)
                assertEquals(SessionState.EXPIRED, session.state())
                assertNull(store.tokens, "the tokens bound to the lost key are cleared")
            }
        }
    }

    @Test
    fun `errors and their text never carry a proof or key material`() = runBlocking {
        AuthServer("--dpop-nonce").use { server ->
            val jvmKey = JvmDpopKey()
            val key = RecordingDpopKey(jvmKey)
            Session.withDpop(SessionConfig(baseUrl = server.baseUrl), FlakyStore(), key).use { session ->
                session.signIn(loginWithProof(server, session))
                assertEquals(200.toUShort(), session.execute(resource).status)

                key.failure = "secure hardware busy"
                val failed = assertThrows<SessionException.DpopKey> { runBlocking { session.execute(resource) } }
                key.failure = null
                key.gone = true
                val expired = assertThrows<SessionException.SessionExpired> { runBlocking { session.execute(resource) } }

                val secrets = key.signed + jwkCoordinates(key.publicJwk()) +
                    Base64.getEncoder().encodeToString(jvmKey.privateBytes)
                for (error in listOf(failed, expired)) {
                    for (text in listOf(error.toString(), error.message.orEmpty(), error.stackTraceToString())) {
                        assertFalse(secrets.any { it in text }, "an error's text carries a proof or the key: $text")
                    }
                }
                assertEquals("secure hardware busy", failed.detail, "the key's own words reach the app")
            }
        }
    }

    /** The app's own login call, bound to the session's key. */
    private suspend fun loginWithProof(server: AuthServer, session: Session): Tokens =
        server.loginWithProof { nonce -> session.dpopProof("POST", "${server.baseUrl}/login", nonce) }

    private fun jwkCoordinates(jwk: String): List<String> =
        Regex("\"[xy]\":\"([^\"]+)\"").findAll(jwk).map { it.groupValues[1] }.toList().also { check(it.size == 2) }

    private companion object {
        const val BURST = 1000
    }
}
