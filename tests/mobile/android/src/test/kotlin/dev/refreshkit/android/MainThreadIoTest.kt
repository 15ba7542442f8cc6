package dev.refreshkit.android

import android.os.Handler
import android.os.Looper
import dev.refreshkit.HttpRequest
import dev.refreshkit.SessionConfig
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.okhttp.addRefreshKit
import dev.refreshkit.test.AuthServer
import java.time.Instant
import okhttp3.OkHttpClient
import okhttp3.Request
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner

/**
 * An app's calls launched from the main looper (Dispatchers.Main), with an OkHttp client
 * carrying refreshkit and an ObservableSession over KeystoreTokenStore, against the auth
 * server process on loopback: the answers come back to the main looper, while the
 * network and the store are used only on other threads.
 */
@RunWith(RobolectricTestRunner::class)
class MainThreadIoTest : MainLooperTest() {

    @Test fun `calls from the main looper refresh and answer with no network or store work on the main thread`() {
        AuthServer().use { server ->
            val store = ThreadRecordingStore(KeystoreTokenStore(context))
            val network = NetworkThreadListener()
            ObservableSession(SessionConfig(baseUrl = server.baseUrl), store).use { session ->
                val http = OkHttpClient.Builder().eventListener(network).addRefreshKit(session).build()
                val resource = Request.Builder().url("${server.baseUrl}/api/resource").build()
                // Due now, as after a night in the background: the first call refreshes first.
                val due = server.login().copy(expiresAt = Instant.now())
                main.run("sign-in") { session.signIn(due) }
                val answers = mutableListOf<Int>()
                answers += main.run("an OkHttp call that refreshes first") { http.newCall(resource).status() }
                server.expireAll()
                answers += main.run("an OkHttp call that meets a 401") { http.newCall(resource).status() }
                server.expireAll()
                answers += main.run("execute that meets a 401") { session.execute(HttpRequest(url = "/api/resource")).status.toInt() }
                http.dispatcher.executorService.shutdown()
                http.connectionPool.evictAll()

                assertEquals(listOf(200, 200, 200), answers)
                assertEquals("refreshes", 3L, server.stat("refreshes"))
                assertTrue("OkHttp sent requests", network.events.count { it.what == "requestHeadersStart" } >= 3)
                assertEquals("OkHttp network work on the main thread", emptyList<String>(), network.events.filter { it.thread === main.thread }.map { it.what })
                assertTrue("the store was read and saved", store.calls.any { it.what == "load" } && store.calls.count { it.what == "save" } >= 4)
                assertEquals("store calls on the main thread", emptyList<String>(), store.calls.filter { it.thread === main.thread }.map { it.what })
            }
        }
    }

    @Test fun `the main looper runs other work while execute from it waits for the server`() {
        AuthServer().use { server ->
            // A bound, so a main thread blocked on the request fails this test rather than hanging it.
            val config = SessionConfig(baseUrl = server.baseUrl, requestTimeoutMs = 5_000u)
            ObservableSession(config, KeystoreTokenStore(context)).use { session ->
                main.run("sign-in") { session.signIn(server.login()) }
                var answer: Result<Int>? = null
                main.launch { answer = runCatching { session.execute(HttpRequest(url = "/held")).status.toInt() } }
                main.awaitUntil("the request reached the server") { server.stat("held_waiting") == 1L || answer != null }
                var ran = false
                Handler(Looper.getMainLooper()).post { ran = true }
                main.awaitUntil("other work ran on the main looper") { ran }
                assertEquals("an answer before the server gave one: the main thread waited for the network", null, answer)
                server.releaseHeld()
                main.awaitUntil("the answer came back to the main looper") { answer != null }
                assertEquals(200, answer?.getOrThrow())
            }
        }
    }
}
