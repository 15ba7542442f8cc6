package dev.refreshkit.test

import dev.refreshkit.HttpRequest
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.ktx.ObservableSession
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineExceptionHandler
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * `close()` while calls are in flight (a ViewModel's `onCleared() { session.close() }`):
 * each call ends with its answer or a typed error, and nothing is thrown from cleanup.
 */
class ObservableSessionCloseTest {
    private fun heldCall(test: (AuthServer, ObservableSession) -> Unit) = runBlocking {
        AuthServer().use { server ->
            val session = ObservableSession(SessionConfig(baseUrl = server.baseUrl), FlakyStore())
            session.signIn(server.login())
            test(server, session)
        }
    }

    @Test
    fun `a call in flight when the session is closed gets its answer`() = heldCall { server, session ->
        val outcome = CompletableFuture<Result<Int>>()
        CoroutineScope(Dispatchers.Default).launch {
            outcome.complete(runCatching { session.execute(HttpRequest(url = "/held")).status.toInt() })
        }
        waitUntil("the call reached the server") { server.stat("held_waiting") == 1L }
        session.close()
        server.releaseHeld()
        val result = outcome.get(10, TimeUnit.SECONDS)
        assertEquals(200, result.getOrThrow(), "the answer, not ${result.exceptionOrNull()}")
    }

    @Test
    fun `closing after the caller's scope is cancelled throws nothing from the call's cleanup`() = heldCall { server, session ->
        val crashes = CompletableFuture<Throwable>()
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineExceptionHandler { _, e -> crashes.complete(e) })
        val ended = CompletableFuture<Throwable?>()
        scope.launch {
            try {
                session.execute(HttpRequest(url = "/held"))
                ended.complete(null)
            } catch (e: Throwable) {
                ended.complete(e)
                throw e
            }
        }
        waitUntil("the call reached the server") { server.stat("held_waiting") == 1L }
        scope.cancel() // viewModelScope, then onCleared()
        session.close()
        server.releaseHeld()
        val error = ended.get(10, TimeUnit.SECONDS)
        assertTrue(error is CancellationException, "the call ended cancelled, not with ${error?.javaClass?.name}: $error")
        assertTrue(!crashes.isDone, "nothing reached the scope's handler: ${crashes.getNow(null)}")
    }

    @Test
    fun `a call after close fails with a typed error`() = heldCall { _, session ->
        session.close()
        assertThrows<SessionException> { runBlocking { session.execute(HttpRequest(url = "/api/resource")) } }
        Unit
    }
}
