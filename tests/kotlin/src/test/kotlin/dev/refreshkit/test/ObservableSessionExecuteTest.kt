package dev.refreshkit.test

import dev.refreshkit.HttpHeader
import dev.refreshkit.HttpRequest
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.SessionState
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.ktx.bodyText
import dev.refreshkit.ktx.header
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.job
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * `ObservableSession.execute` crosses the bindings by its own door (src/api/encoded_call.rs,
 * ktx/EncodedCalls.kt: bytes instead of JNA structures, for throughput): the same
 * promises as the generated `Session.execute`, checked through that door.
 */
class ObservableSessionExecuteTest {
    private fun withSession(config: (String) -> SessionConfig = { SessionConfig(baseUrl = it) }, test: suspend CoroutineScope.(AuthServer, ObservableSession) -> Unit) =
        runBlocking {
            AuthServer().use { server ->
                ObservableSession(config(server.baseUrl), FlakyStore()).use { session ->
                    session.signIn(server.login())
                    test(server, session)
                }
            }
        }

    @Test
    fun `a burst on an expired token through ObservableSession shares one refresh and every call is replayed`() = withSession { server, session ->
        server.expireAll()
        val answers = (1..100).map { async(Dispatchers.IO) { session.execute(HttpRequest(url = "/api/resource")).status.toInt() } }.awaitAll()
        assertEquals(List(100) { 200 }, answers)
        assertEquals(1L, server.stat("refreshes"))
        assertEquals(SessionState.ACTIVE, session.state.value)
    }

    @Test
    fun `method, headers and body go out and the answer's status, headers and body come back`() = withSession { _, session ->
        val answer = session.execute(
            HttpRequest(method = "POST", url = "/echo", headers = listOf(HttpHeader("X-Seen", "yes")), body = "{}".toByteArray()),
        )
        assertEquals(200, answer.status.toInt())
        assertEquals("application/json", answer.header("content-type"))
        val seen = answer.bodyText()
        assertTrue(seen.contains("\"x-seen\":\"yes\""), seen)
        assertTrue(seen.contains("\"content-length\":\"2\""), seen)
        assertTrue(seen.contains("\"authorization\":\"Bearer "), "the token goes to the base URL's host: $seen")
    }

    @Test
    fun `a redirect carries the token only on hops that may receive it`() = withSession { server, session ->
        val same = session.execute(HttpRequest(url = "/redirect?to=/echo")).bodyText()
        assertTrue(same.contains("\"authorization\":\"Bearer "), same)
        val away = session.execute(HttpRequest(url = "/redirect?to=http://localhost:${server.port}/echo")).bodyText()
        assertFalse(away.contains("authorization"), away)
    }

    @Test
    fun `bad input, an answer over maxResponseBytes and a request over its timeout get the typed errors`() =
        withSession({ SessionConfig(baseUrl = it, maxResponseBytes = 1000uL, requestTimeoutMs = 300uL) }) { _, session ->
            for (url in listOf("", "http://[bad", "http://example.com/x")) {
                assertThrows<SessionException.InvalidRequest> { runBlocking { session.execute(HttpRequest(url = url)) } }
            }
            assertThrows<SessionException.ResponseTooLarge> { runBlocking { session.execute(HttpRequest(url = "/big?bytes=5000")) } }
            assertThrows<SessionException.Timeout> { runBlocking { session.execute(HttpRequest(url = "/held")) } }
            assertThrows<SessionException.InvalidRequest> { session.executeBlocking(HttpRequest(url = "http://[bad")) }
            assertEquals(200, session.executeBlocking(HttpRequest(url = "/api/resource")).status.toInt())
        }

    @Test
    fun `a cancelled ObservableSession call that waits for a refresh is never sent`(): Unit = runBlocking {
        AuthServer().use { server ->
            ObservableSession(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                cancelledCallsWaitingForARefreshAreNeverSent(server, CALLS, session::signIn, session::execute, session::metrics)
            }
        }
    }

    @Test
    fun `a call cancelled while the server holds its answer gives its place on the wire back at once`() =
        withSession({ SessionConfig(baseUrl = it, requestTimeoutMs = 120_000uL, maxConcurrentRequests = 1u) }) { server, session ->
            val call = async(Dispatchers.IO) { session.execute(HttpRequest(url = "/held")) }
            waitUntil("the request to reach the server") { server.stat("held_waiting") == 1L }
            call.cancel()
            val outcome = runCatching { call.await() }
            assertTrue(outcome.exceptionOrNull() is CancellationException, "expected cancellation, got $outcome")
            // One place on the wire: the next call goes out only if the core dropped the held
            // request. Far below the request timeout, so only the cancel can free it in time.
            assertEquals(200, withTimeout(30_000) { session.execute(HttpRequest(url = "/api/resource")) }.status.toInt())
        }

    @Test
    fun `a call made by a coroutine already cancelled is never sent`() =
        withSession({ SessionConfig(baseUrl = it, requestTimeoutMs = 120_000uL, maxConcurrentRequests = 1u) }) { _, session ->
            val call = async(Dispatchers.IO) {
                coroutineContext.job.cancel()
                session.execute(HttpRequest(url = "/held"))
            }
            assertTrue(runCatching { call.await() }.exceptionOrNull() is CancellationException)
            // Had it been sent, /held would keep the one place on the wire for two minutes.
            assertEquals(200, withTimeout(30_000) { session.execute(HttpRequest(url = "/api/resource")) }.status.toInt())
        }

    @Test
    fun `a call in flight when the session closes gets its answer and a call after the close is Cancelled`(): Unit = runBlocking {
        AuthServer().use { server ->
            val session = ObservableSession(SessionConfig(baseUrl = server.baseUrl), FlakyStore())
            session.signIn(server.login())
            val call = async(Dispatchers.IO) { session.execute(HttpRequest(url = "/held")) }
            waitUntil("the request to reach the server") { server.stat("held_waiting") == 1L }
            session.close()
            server.releaseHeld()
            assertEquals(200, withTimeout(30_000) { call.await() }.status.toInt())
            assertThrows<SessionException.Cancelled> { runBlocking { session.execute(HttpRequest(url = "/api/resource")) } }
            assertThrows<SessionException.Cancelled> { session.executeBlocking(HttpRequest(url = "/api/resource")) }
        }
    }

    @Test
    @OptIn(kotlinx.coroutines.ExperimentalCoroutinesApi::class)
    fun `calls waiting for their answers hold no thread, so one thread can keep 50 in flight`() = withSession { server, session ->
        val oneThread = Dispatchers.IO.limitedParallelism(1)
        val calls = (1..50).map { async(oneThread) { session.execute(HttpRequest(url = "/held")).status.toInt() } }
        waitUntil("all 50 requests to reach the server at once") { server.stat("held_waiting") == 50L }
        server.releaseHeld()
        assertEquals(List(50) { 200 }, calls.awaitAll())
    }

    private companion object {
        const val CALLS = 20
    }
}
