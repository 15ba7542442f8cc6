package dev.refreshkit.test

import dev.refreshkit.DpopKey
import dev.refreshkit.Session
import java.io.IOException
import java.io.InterruptedIOException
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.runBlocking
import okhttp3.OkHttpClient
import okhttp3.Request
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * A call waiting in the OkHttp layer for a DPoP proof from a slow key (StrongBox busy: the
 * key answers after [SLOW_MS]) gives up when cancelled or timed out, like the wait for a
 * refresh. The bounds below are well under [SLOW_MS]: a wait that ignores the call fails them.
 */
class InterceptorSlowProofTest {
    /** Signs at once until [slow]; then each signature waits for [release] (at most [SLOW_MS]). */
    private class SlowKey(private val inner: DpopKey) : DpopKey {
        @Volatile var slow = false
        val release = CountDownLatch(1)
        val slowSigns = AtomicInteger()

        override fun publicJwk(): String = inner.publicJwk()

        override fun sign(message: ByteArray): ByteArray {
            if (slow) {
                slowSigns.incrementAndGet()
                release.await(SLOW_MS, TimeUnit.MILLISECONDS)
            }
            return inner.sign(message)
        }
    }

    private fun slowProofs(test: (AuthServer, Session, SlowKey) -> Unit) = runBlocking {
        AuthServer("--dpop").use { server ->
            val key = SlowKey(JvmDpopKey())
            boundSession(server, key).use { session ->
                key.slow = true
                try {
                    test(server, session, key)
                } finally {
                    key.release.countDown()
                }
            }
        }
    }

    private fun resource(server: AuthServer) = Request.Builder().url("${server.baseUrl}/api/resource").build()

    @Test
    fun `callTimeout ends the wait for a DPoP proof from a slow key`() = slowProofs { server, session, _ ->
        val http = dpopClient(session, OkHttpClient.Builder().callTimeout(1, TimeUnit.SECONDS))
        val started = System.nanoTime()
        val outcome = CompletableFuture.supplyAsync { runCatching { http.newCall(resource(server)).execute().close() } }
        val error = outcome.get(3, TimeUnit.SECONDS).exceptionOrNull()
        println("InterceptorSlowProofTest: callTimeout(1 s) failed the call after ${(System.nanoTime() - started) / 1_000_000} ms, key held $SLOW_MS ms")
        assertTrue(error is InterruptedIOException, "a timeout, not $error")
    }

    @Test
    fun `cancel while the key signs reaches onFailure at once`() = slowProofs { server, session, key ->
        val http = dpopClient(session)
        val call = http.newCall(resource(server))
        val failure = enqueueForFailure(call)
        waitUntil("the key is asked for the proof") { key.slowSigns.get() == 1 }
        call.cancel()
        failure.get(2, TimeUnit.SECONDS)
        waitUntil("the dispatcher thread is free", 2_000) { http.dispatcher.runningCallsCount() == 0 }
    }

    private companion object {
        const val SLOW_MS = 8_000L
    }
}
