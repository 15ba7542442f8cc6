package dev.refreshkit.test

import dev.refreshkit.HttpRequest
import dev.refreshkit.HttpResponse
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionMetrics
import dev.refreshkit.Tokens
import java.time.Instant
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
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
    fun `a cancelled call that has not been sent yet is never sent`(): Unit = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                cancelledCallsWaitingForARefreshAreNeverSent(server, CALLS, session::signIn, session::execute, session::metrics)
            }
        }
    }

    private companion object {
        const val CALLS = 50
    }
}

/**
 * [calls] calls that wait for a refresh are cancelled: none reaches the server, the refresh
 * goes on for the next call. Shared by the generated `Session` and `ObservableSession`,
 * which crosses into the core by its own door.
 */
internal suspend fun CoroutineScope.cancelledCallsWaitingForARefreshAreNeverSent(
    server: AuthServer,
    calls: Int,
    signIn: suspend (Tokens) -> Unit,
    execute: suspend (HttpRequest) -> HttpResponse,
    metrics: () -> SessionMetrics,
) {
    val login = server.login()
    // Expired on the client's clock: every request waits for the refresh before it is sent.
    signIn(Tokens(login.accessToken, login.refreshToken, Instant.now().minusSeconds(60)))
    server.fault("""{"kind": "delay", "ms": 0, "gated": true}""")

    val running = (1..calls).map { async(Dispatchers.IO) { execute(HttpRequest(method = "POST", url = "/api/resource")) } }
    waitUntil("all $calls calls to reach the session") { metrics().requests == calls.toULong() }
    waitUntil("the refresh to reach the server") { server.stat("refresh_requests") == 1L }
    waitUntil("all $calls calls to wait for the refresh") { metrics().waitingForRefresh == calls.toULong() }
    running.forEach { it.cancel() }
    for (call in running) {
        val outcome = runCatching { call.await() }
        assertTrue(outcome.exceptionOrNull() is CancellationException, "expected cancellation, got ${outcome.map { it.status }}")
    }
    // The Rust side dropped each call: nothing waits for the refresh to send it later.
    waitUntil("the cancelled calls to stop waiting in the core") { metrics().waitingForRefresh == 0uL }
    server.release()

    assertEquals(200, execute(HttpRequest(url = "/api/resource")).status.toInt())
    assertEquals(1L, server.stat("refreshes"), "the refresh went on for the others")
    assertEquals(1L, server.stat("served") + server.stat("rejected"), "cancelled requests reached the server")
}
