package dev.refreshkit.test

import dev.refreshkit.ExpiryReason
import dev.refreshkit.HttpHeader
import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.SessionState
import kotlin.reflect.KClass
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.Arguments
import org.junit.jupiter.params.provider.MethodSource
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** A representative part of the fault matrix, from Kotlin: 100 coroutines wait on a refresh that fails. */
class FaultMatrixTest {
    private suspend fun burstAgainst(server: AuthServer, session: Session): List<Result<UShort>> =
        withContext(Dispatchers.IO) {
            val calls = (1..100).map { async { runCatching { session.execute(HttpRequest(url = "/api/resource")).status } } }
            // Every request waits on the one refresh: none can come late and start another
            // (a late one used to refresh again, after the fault, and see 200).
            withTimeout(30_000) { while (session.metrics().waitingForRefresh < 100UL) delay(5) }
            server.release()
            withTimeout(30_000) { calls.awaitAll() }
        }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transientFaults")
    fun `a transient refresh fault fails every waiter with a retryable error and the next request recovers`(
        fault: String,
        expected: KClass<out SessionException>,
    ) = runBlocking {
        AuthServer().use { server ->
            val store = FlakyStore()
            Session(SessionConfig(baseUrl = server.baseUrl, refreshTimeoutMs = 10_000u, storeTimeoutMs = 2_000u), store).use { session ->
                // Known to have expired: every request waits for the refresh, none races it.
                val first = server.login().copy(expiresAt = java.time.Instant.now().minusSeconds(1))
                session.signIn(first)
                server.expireAll()
                server.fault(fault)

                val results = burstAgainst(server, session)

                results.forEach { assertTrue(expected.isInstance(it.exceptionOrNull()), "$fault: $it") }
                assertEquals(first, store.tokens, "tokens are kept")
                assertEquals(200.toUShort(), session.execute(HttpRequest(url = "/api/resource")).status)
            }
        }
    }

    @Test
    fun `invalid_grant expires the session for every waiter and empties the store`() = runBlocking {
        AuthServer().use { server ->
            val store = FlakyStore()
            Session(SessionConfig(baseUrl = server.baseUrl), store).use { session ->
                session.signIn(server.login().copy(expiresAt = java.time.Instant.now().minusSeconds(1)))
                server.expireAll()
                server.fault("""{"kind": "invalid_grant", "gated": true}""")

                val results = burstAgainst(server, session)

                results.forEach {
                    val error = it.exceptionOrNull()
                    assertTrue(error is SessionException.SessionExpired && error.reason == ExpiryReason.REFRESH_REJECTED, "$it")
                }
                assertNull(store.tokens)
                assertEquals(SessionState.EXPIRED, session.state())
            }
        }
    }

    @Test
    fun `garbage from Kotlin gets typed errors or plain answers, never a crash`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                session.signIn(server.login())
                assertThrows<SessionException.InvalidRequest> {
                    runBlocking { session.execute(HttpRequest(method = "", url = "/api/resource")) }
                }
                assertThrows<SessionException.InvalidRequest> {
                    runBlocking { session.execute(HttpRequest(url = "/api/resource", headers = listOf(HttpHeader("", "x")))) }
                }
                val binary = ByteArray(256) { it.toByte() } // not UTF-8
                assertEquals(200.toUShort(), session.execute(HttpRequest(method = "POST", url = "/echo", body = binary)).status)
                val huge = HttpHeader("X-Huge", "a".repeat(1_000_000))
                val answer = runCatching { session.execute(HttpRequest(url = "/echo", headers = listOf(huge))) }
                assertTrue(answer.isSuccess || answer.exceptionOrNull() is SessionException, "$answer")
            }
        }
    }

    companion object {
        @JvmStatic
        fun transientFaults() = listOf(
            Arguments.of("""{"kind": "status", "status": 503, "gated": true}""", SessionException.Network::class),
            Arguments.of("""{"kind": "drop", "gated": true}""", SessionException.Network::class),
            Arguments.of("""{"kind": "truncate", "gated": true}""", SessionException.Network::class),
            Arguments.of("""{"kind": "malformed", "gated": true}""", SessionException.InvalidResponse::class),
            Arguments.of("""{"kind": "status", "status": 500, "gated": true}""", SessionException.Network::class),
        )
    }
}
