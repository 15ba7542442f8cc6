package dev.refreshkit.test

import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.Tokens
import java.time.Instant
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * Issue 13: cancelling a coroutine cancels its request, not just the wait. Counted at the
 * server. Mirrors ios/Tests/RefreshKitTests/CancellationTests.swift.
 */
class CancellationTest {
    @Test
    fun `a cancelled call that has not been sent yet is never sent`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                val login = server.login()
                // Expired on the client's clock: every request waits for the refresh before it is sent.
                session.signIn(Tokens(login.accessToken, login.refreshToken, Instant.now().minusSeconds(60)))
                server.fault("""{"kind": "delay", "ms": 0, "gated": true}""")

                val calls = (1..CALLS).map {
                    async(Dispatchers.IO) { session.execute(HttpRequest(method = "POST", url = "/api/resource")) }
                }
                waitUntil("all $CALLS calls to reach the session") { session.metrics().requests == CALLS.toULong() }
                waitUntil("the refresh to reach the server") { server.stat("refresh_requests") == 1L }
                waitUntil("all $CALLS calls to wait for the refresh") { session.metrics().waitingForRefresh == CALLS.toULong() }
                calls.forEach { it.cancel() }
                for (call in calls) {
                    val outcome = runCatching { call.await() }
                    assertTrue(outcome.exceptionOrNull() is CancellationException, "expected cancellation, got ${outcome.map { it.status }}")
                }
                // The Rust side dropped each call: nothing waits for the refresh to send it later.
                waitUntil("the cancelled calls to stop waiting in the core") { session.metrics().waitingForRefresh == 0uL }
                server.release()

                assertEquals(200.toUShort(), session.execute(HttpRequest(url = "/api/resource")).status)
                assertEquals(1L, server.stat("refreshes"), "the refresh went on for the others")
                assertEquals(1L, server.stat("served") + server.stat("rejected"), "cancelled requests reached the server")
            }
        }
    }

    private companion object {
        const val CALLS = 50
    }
}
