package dev.refreshkit.android

import dev.refreshkit.ExpiryReason
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionState
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.okhttp.RefreshKitIOException
import dev.refreshkit.okhttp.addRefreshKit
import dev.refreshkit.test.AuthServer
import java.util.concurrent.CopyOnWriteArrayList
import okhttp3.OkHttpClient
import okhttp3.Request
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner

/**
 * ObservableSession's flows collected on the main looper, as a ViewModel or Compose does:
 * each change arrives there, whichever refreshkit thread caused it.
 */
@RunWith(RobolectricTestRunner::class)
class MainThreadStateTest : MainLooperTest() {

    @Test fun `a main-looper collector sees ACTIVE after sign-in and EXPIRED when the server rejects the refresh token`() {
        AuthServer().use { server ->
            ObservableSession(SessionConfig(baseUrl = server.baseUrl), KeystoreTokenStore(context)).use { session ->
                val states = collectOnMain(session)
                val reasons = CopyOnWriteArrayList<OnThread>()
                main.launch { session.expired.collect { reasons += OnThread(it.name, Thread.currentThread()) } }
                main.run("sign-in") { session.signIn(server.login()) }
                main.awaitUntil("ACTIVE reached the collector") { states.lastOrNull()?.what == "ACTIVE" }

                server.expireAll()
                server.fault("""{"kind": "invalid_grant"}""")
                val http = OkHttpClient.Builder().addRefreshKit(session).build()
                val call = http.newCall(Request.Builder().url("${server.baseUrl}/api/resource").build())
                val failure = runCatching { main.run("a call whose refresh is rejected") { call.status() } }.exceptionOrNull()
                http.dispatcher.executorService.shutdown()
                assertTrue("the call failed with the session's reason: $failure", failure is RefreshKitIOException)

                main.awaitUntil("EXPIRED reached the collector") { states.lastOrNull()?.what == "EXPIRED" }
                main.awaitUntil("the expiry reached its collector") { reasons.isNotEmpty() }
                assertEquals(listOf(ExpiryReason.REFRESH_REJECTED.name), reasons.map { it.what })
                assertEquals("delivered off the main looper", emptyList<String>(), (states + reasons).filter { it.thread !== main.thread }.map { it.what })
            }
        }
    }

    @Test fun `a main-looper collector sees SIGNED_OUT after sign-out`() {
        AuthServer().use { server ->
            ObservableSession(SessionConfig(baseUrl = server.baseUrl), KeystoreTokenStore(context)).use { session ->
                val states = collectOnMain(session)
                main.run("sign-in") { session.signIn(server.login()) }
                main.awaitUntil("ACTIVE reached the collector") { states.lastOrNull()?.what == "ACTIVE" }
                main.run("sign-out") { session.signOut() }
                main.awaitUntil("SIGNED_OUT reached the collector") { states.lastOrNull()?.what == "SIGNED_OUT" }
                assertEquals("delivered off the main looper", emptyList<String>(), states.filter { it.thread !== main.thread }.map { it.what })
            }
        }
    }

    /** Every state a collector on the main looper receives, with the thread it ran on. */
    private fun collectOnMain(session: ObservableSession): List<OnThread> {
        val states = CopyOnWriteArrayList<OnThread>()
        main.launch { session.state.collect { states += OnThread(it.name, Thread.currentThread()) } }
        return states
    }
}
