package dev.refreshkit.test

import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionEvent
import dev.refreshkit.SessionException
import dev.refreshkit.SessionState
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * Issue 10 from Kotlin, items 6, 8 and 12: a request belongs to its sign-in, the app's own
 * configuration mistakes keep the session, and a response has a size bound. Mirrors
 * ios/Tests/RefreshKitTests/ServerTrustTests.swift and tests/all/users.rs,
 * client_errors.rs, hostile.rs.
 */
class ServerTrustTest {
    @Test
    fun `a late 401 after another user signed in fails with SessionChanged and never carries their token`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                val alice = server.login()
                session.signIn(alice)

                val transfer = async(Dispatchers.IO) {
                    runCatching { session.execute(HttpRequest(method = "POST", url = "/held", body = """{"amount":100}""".toByteArray())) }
                }
                waitUntil("Alice's request to reach the server") { server.stat("held_waiting") == 1L }
                session.signOut()
                val bob = server.login()
                session.signIn(bob)
                server.expireAll()
                server.releaseHeld()

                val outcome = transfer.await()
                assertTrue(outcome.exceptionOrNull() is SessionException.SessionChanged,
                    "Alice's late 401 must not be replayed; got ${outcome.map { it.status }}")
                // Compared, never printed: the server saw Alice's request once, never Bob's token.
                val seen = server.heldSeen()
                assertEquals(1, seen.size, "requests /held received")
                assertTrue(seen[0] == alice.accessToken, "the one request /held saw carried Alice's token")
                assertFalse(bob.accessToken in seen, "Bob's token reached Alice's request")
            }
        }
    }

    @Test
    fun `invalid_client from the refresh endpoint is ClientRejected and keeps the tokens`() = runBlocking {
        AuthServer().use { server ->
            val store = FlakyStore()
            val recorder = Recorder()
            Session(SessionConfig(baseUrl = server.baseUrl), store, recorder).use { session ->
                val first = server.login()
                session.signIn(first)
                server.expireAll()
                server.fault("""{"kind": "answer", "status": 401, "body": {"error": "invalid_client"}}""")

                val error = assertThrows<SessionException.ClientRejected> {
                    runBlocking { session.execute(HttpRequest(url = "/api/resource")) }
                }
                assertEquals("invalid_client", error.detail)
                assertFalse(error.isRetryable(), "a configuration mistake does not go away by retrying")

                assertEquals(SessionState.ACTIVE, session.state())
                assertTrue(store.tokens == first, "the refresh token is kept")
                recorder.awaitUntil { SessionEvent.ClientRejected("invalid_client") in it }
                assertFalse(recorder.events.any { it is SessionEvent.Expired }, "the session did not expire")
                // Once the app's configuration is fixed (here: the fault is gone), the same tokens work.
                assertEquals(200.toUShort(), session.execute(HttpRequest(url = "/api/resource")).status)
            }
        }
    }

    @Test
    fun `a response over maxResponseBytes is ResponseTooLarge`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl, maxResponseBytes = 1000uL), FlakyStore()).use { session ->
                session.signIn(server.login())

                assertEquals(1000, session.execute(HttpRequest(url = "/big?bytes=1000")).body.size)
                val error = assertThrows<SessionException.ResponseTooLarge> {
                    runBlocking { session.execute(HttpRequest(url = "/big?bytes=1001")) }
                }
                assertEquals(1000uL, error.limitBytes)
                assertFalse(error.isRetryable())
            }
        }
    }
}
