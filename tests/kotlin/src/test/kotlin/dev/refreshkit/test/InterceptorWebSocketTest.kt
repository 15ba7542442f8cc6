package dev.refreshkit.test

import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.Tokens
import dev.refreshkit.okhttp.addRefreshKit
import java.net.InetAddress
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.runBlocking
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.Response
import okhttp3.WebSocket
import okhttp3.WebSocketListener
import okhttp3.mockwebserver.Dispatcher
import okhttp3.mockwebserver.MockResponse
import okhttp3.mockwebserver.MockWebServer
import okhttp3.mockwebserver.RecordedRequest
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * A WebSocket on a client built with addRefreshKit: OkHttp runs no network interceptors
 * for its upgrade, yet the upgrade carries the token, and a 401 on it is refreshed once.
 * The server upgrades only a request with the current token; its refresh endpoint rotates it.
 */
class InterceptorWebSocketTest {
    private val current = AtomicInteger(1)
    private val refreshes = AtomicInteger()
    private val upgradesSeen = CopyOnWriteArrayList<String?>()

    private val server = MockWebServer().apply {
        dispatcher = object : Dispatcher() {
            override fun dispatch(request: RecordedRequest): MockResponse = when (request.path) {
                "/oauth/token" -> {
                    refreshes.incrementAndGet()
                    val next = current.incrementAndGet()
                    MockResponse().setHeader("Content-Type", "application/json")
                        .setBody("""{"access_token":"${token(next)}","refresh_token":"r$next","expires_in":3600}""")
                }
                "/ws" -> {
                    val sent = request.getHeader("Authorization") ?: request.getHeader("X-Api-Token")
                    upgradesSeen.add(sent)
                    if (sent == "Bearer ${token(current.get())}") {
                        MockResponse().withWebSocketUpgrade(object : WebSocketListener() {
                            override fun onOpen(webSocket: WebSocket, response: Response) {
                                webSocket.send("hello")
                            }
                        })
                    } else {
                        MockResponse().setResponseCode(401)
                    }
                }
                else -> MockResponse().setResponseCode(404)
            }
        }
        start(InetAddress.getByName("127.0.0.1"), 0)
    }

    @AfterEach
    fun stop() {
        server.shutdown()
    }

    private fun token(n: Int) = "ws-token-$n"

    /** Opens a WebSocket to /ws; the first message, or the failure. */
    private fun open(http: OkHttpClient): Result<String> {
        val outcome = CompletableFuture<Result<String>>()
        val socket = http.newWebSocket(
            Request.Builder().url("ws://127.0.0.1:${server.port}/ws").build(),
            object : WebSocketListener() {
                override fun onMessage(webSocket: WebSocket, text: String) {
                    outcome.complete(Result.success(text))
                }

                override fun onFailure(webSocket: WebSocket, t: Throwable, response: Response?) {
                    outcome.complete(Result.failure(t))
                }
            },
        )
        try {
            return outcome.get(10, TimeUnit.SECONDS)
        } finally {
            socket.cancel()
        }
    }

    private fun session(headerName: String = "Authorization"): Session =
        Session(SessionConfig(baseUrl = "http://127.0.0.1:${server.port}", headerName = headerName), FlakyStore())
            .also { runBlocking { it.signIn(Tokens(accessToken = token(1), refreshToken = "r1", expiresAt = null)) } }

    @Test
    fun `a WebSocket upgrade to the token host carries the token`() {
        session().use { session ->
            val http = OkHttpClient.Builder().addRefreshKit(session).build()
            val result = open(http)
            assertEquals("hello", result.getOrElse { throw AssertionError("the WebSocket failed: $it") })
            assertEquals(listOf(true), upgradesSeen.map { it == "Bearer ${token(1)}" }, "the upgrade carried the token")
            assertEquals(0, refreshes.get())
        }
    }

    @Test
    fun `a 401 on a WebSocket upgrade refreshes once and upgrades with the new token`() {
        session().use { session ->
            val http = OkHttpClient.Builder().addRefreshKit(session).build()
            current.set(2) // the server already moved on: the session's token is rejected
            val result = open(http)
            assertEquals("hello", result.getOrElse { throw AssertionError("the WebSocket failed: $it") })
            assertEquals(1, refreshes.get(), "one refresh")
            assertEquals(2, upgradesSeen.size, "the rejected upgrade, then one more")
            assertTrue(upgradesSeen.last() == "Bearer ${token(3)}", "the second upgrade carried the refreshed token")
        }
    }

    @Test
    fun `a WebSocket with a custom token header is refused on a client that follows redirects, and carries it on one that does not`() {
        session(headerName = "X-Api-Token").use { session ->
            val following = open(OkHttpClient.Builder().addRefreshKit(session).build())
            assertTrue(following.exceptionOrNull()?.message?.contains("followRedirects(false)") == true, "$following")
            assertEquals(0, upgradesSeen.size, "the upgrade was not sent")

            val result = open(OkHttpClient.Builder().followRedirects(false).addRefreshKit(session).build())
            assertEquals("hello", result.getOrElse { throw AssertionError("the WebSocket failed: $it") })
            assertEquals(listOf(true), upgradesSeen.map { it == "Bearer ${token(1)}" })
        }
    }
}
