package dev.refreshkit.test

import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.okhttp.addRefreshKit
import java.io.IOException
import java.io.InterruptedIOException
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import okhttp3.Call
import okhttp3.Callback
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.Response
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * A call waiting in the interceptor for a slow refresh (the server holds its answer
 * [REFRESH_MS]) gives up when cancelled or timed out; the refresh goes on for the others.
 * The bounds below are well under [REFRESH_MS]: a wait that ignores the call fails them.
 */
class InterceptorCancelTest {
    private fun slowRefresh(test: (AuthServer, Session) -> Unit) = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                session.signIn(server.login())
                server.expireAll()
                server.fault("""{"kind": "delay", "ms": $REFRESH_MS}""")
                test(server, session)
            }
        }
    }

    private fun resource(server: AuthServer) = Request.Builder().url("${server.baseUrl}/api/resource").build()

    @Test
    fun `cancel during a slow refresh reaches onFailure at once and frees the dispatcher thread`() = slowRefresh { server, session ->
        val http = OkHttpClient.Builder().addRefreshKit(session).build()
        val call = http.newCall(resource(server))
        val failure = enqueueForFailure(call)
        waitUntil("the refresh is in flight") { server.stat("refresh_requests") == 1L }
        val cancelledAt = System.nanoTime()
        call.cancel()
        failure.get(2, TimeUnit.SECONDS)
        println("InterceptorCancelTest: cancel() to onFailure ${(System.nanoTime() - cancelledAt) / 1_000_000} ms, refresh held $REFRESH_MS ms")
        waitUntil("the dispatcher thread is free", 2_000) { http.dispatcher.runningCallsCount() == 0 }

        val other = http.newCall(resource(server)).execute().use { it.code }
        assertEquals(200, other, "the refresh went on for the next call")
        assertEquals(1L, server.stat("refreshes"))
        assertEquals(1L, server.stat("served"), "the cancelled call was replayed after the refresh")
    }

    @Test
    fun `callTimeout ends the wait for a slow refresh`() = slowRefresh { server, session ->
        val http = OkHttpClient.Builder().callTimeout(1, TimeUnit.SECONDS).addRefreshKit(session).build()
        val started = System.nanoTime()
        val outcome = CompletableFuture.supplyAsync { runCatching { http.newCall(resource(server)).execute().close() } }
        val error = outcome.get(3, TimeUnit.SECONDS).exceptionOrNull()
        println("InterceptorCancelTest: callTimeout(1 s) failed the call after ${(System.nanoTime() - started) / 1_000_000} ms")
        assertTrue(error is InterruptedIOException, "a timeout, not $error")
    }

    private companion object {
        const val REFRESH_MS = 5_000
    }
}

/** Enqueues `call`, whose caller cancels it: its future completes with `onFailure`'s
 * error, and fails if an answer comes instead. */
internal fun enqueueForFailure(call: Call): CompletableFuture<IOException> {
    val failure = CompletableFuture<IOException>()
    call.enqueue(object : Callback {
        override fun onFailure(call: Call, e: IOException) {
            failure.complete(e)
        }

        override fun onResponse(call: Call, response: Response) {
            response.close()
            failure.completeExceptionally(AssertionError("answered ${response.code} after cancel"))
        }
    })
    return failure
}
