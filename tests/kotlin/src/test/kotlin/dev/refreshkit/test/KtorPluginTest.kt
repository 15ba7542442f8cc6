package dev.refreshkit.test

import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.ktor.RefreshKit
import dev.refreshkit.ktor.requireToken
import dev.refreshkit.ktx.ObservableSession
import io.ktor.client.HttpClient
import io.ktor.client.engine.cio.CIO
import io.ktor.client.request.get
import io.ktor.client.request.post
import io.ktor.client.request.setBody
import io.ktor.utils.io.ByteReadChannel
import java.net.URLEncoder
import io.ktor.client.statement.bodyAsText
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** The Ktor client plugin against the auth server: token, one refresh, replay, body rule, cancellation. */
class KtorPluginTest {
    private fun client(session: ObservableSession) = HttpClient(CIO) { install(RefreshKit) { session(session) } }

    private fun signedIn(server: AuthServer, config: SessionConfig = SessionConfig(baseUrl = server.baseUrl), test: suspend (ObservableSession) -> Unit) =
        runBlocking {
            ObservableSession(config, FlakyStore()).use { session ->
                session.signIn(server.login())
                test(session)
            }
        }

    @Test
    fun `20 concurrent Ktor calls after the token expired make one refresh and are all replayed`() = AuthServer().use { server ->
        signedIn(server) { session ->
            client(session).use { http ->
                assertEquals(200, http.get("${server.baseUrl}/api/resource").status.value, "the token is sent")
                server.expireAll()
                val codes = coroutineScope {
                    List(20) { async { http.get("${server.baseUrl}/api/resource").status.value } }.awaitAll()
                }
                assertEquals(List(20) { 200 }, codes)
                assertEquals(1L, server.stat("refreshes"))
            }
        }
    }

    /** Fails when the plugin takes the 401 for an expired token (the status rule alone): a refresh and a resend. */
    @Test
    fun `a step-up challenge reaches the app unrefreshed and sent once`() = AuthServer().use { server ->
        signedIn(server) { session ->
            client(session).use { http ->
                val challenge = URLEncoder.encode("""Bearer error="insufficient_user_authentication", max_age=60""", Charsets.UTF_8)
                val answer = http.get("${server.baseUrl}/api/challenge?status=401&www_authenticate=$challenge")
                assertEquals(401, answer.status.value)
                assertEquals(0L, server.stat("refresh_requests"))
                assertEquals(1L, server.stat("step_up_challenges"), "sent once")
                val expired = http.get("${server.baseUrl}/api/challenge?status=401&www_authenticate=" +
                    URLEncoder.encode("""Bearer error="invalid_token"""", Charsets.UTF_8))
                assertEquals(401, expired.status.value, "the challenge route answers what it was asked, even when replayed")
                assertEquals(1L, server.stat("refreshes"), "a challenge saying invalid_token still refreshes once")
            }
        }
    }

    @Test
    fun `the plugin refreshes on the session's body rule (200 with code 1002) and replays`() = AuthServer().use { server ->
        signedIn(server, recipeConfig(server.baseUrl)) { session ->
            client(session).use { http ->
                server.expireAll()
                val answer = http.get("${server.baseUrl}/app/resource")
                assertTrue(answer.bodyAsText().contains("\"code\":0"), "the replayed answer, not the expiry one")
                assertEquals(1L, server.stat("refreshes"))
            }
        }
    }

    @Test
    fun `another host gets no token, and a 401 from it refreshes nothing`() = AuthServer().use { server ->
        signedIn(server) { session ->
            client(session).use { http ->
                val foreign = http.get("http://localhost:${server.port}/echo").bodyAsText()
                assertFalse(foreign.contains("authorization"), "token sent to another host")
                server.expireAll()
                assertEquals(401, http.get("http://localhost:${server.port}/api/resource").status.value)
                assertEquals(0L, server.stat("refreshes"))
            }
        }
    }

    @Test
    fun `a redirect to another host does not carry the token`() = AuthServer().use { server ->
        signedIn(server, SessionConfig(baseUrl = server.baseUrl, headerName = "X-Token", headerScheme = "")) { session ->
            client(session).use { http ->
                val here = http.get("${server.baseUrl}/echo").bodyAsText()
                assertTrue(here.contains("x-token"), "the token header on the token host")
                val away = http.get("${server.baseUrl}/redirect?to=http://localhost:${server.port}/echo").bodyAsText()
                assertTrue(away.contains("\"headers\""), "the redirect was followed")
                assertFalse(away.contains("x-token"), "the custom token header followed the redirect")
            }
        }
    }

    @Test
    fun `a request whose body can be read once is not sent again, and its 401 reaches the app`() = AuthServer().use { server ->
        signedIn(server) { session ->
            client(session).use { http ->
                server.expireAll()
                val answer = http.post("${server.baseUrl}/api/resource") { setBody(ByteReadChannel("once")) }
                assertEquals(401, answer.status.value)
                assertEquals(0L, server.stat("refreshes"), "no refresh for an answer that cannot be replayed")
            }
        }
    }

    @Test
    fun `installing the plugin without a session fails at once with IllegalArgumentException`() {
        val error = assertThrows<IllegalArgumentException> { HttpClient(CIO) { install(RefreshKit) } }
        assertEquals("RefreshKit: install it with session(...)", error.message)
    }

    @Test
    fun `signed out, requests go without a token unless marked requireToken`(): Unit = AuthServer().use { server ->
        runBlocking {
            ObservableSession(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                session.restoredState()
                client(session).use { http ->
                    assertFalse(http.get("${server.baseUrl}/echo").bodyAsText().contains("authorization"))
                    assertThrows<SessionException.NotSignedIn> {
                        runBlocking { http.get("${server.baseUrl}/echo") { requireToken() } }
                    }
                }
            }
        }
    }

    @Test
    fun `cancelling a call that waits for a slow refresh ends it at once and the refresh goes on`() = AuthServer().use { server ->
        signedIn(server) { session ->
            client(session).use { http ->
                server.expireAll()
                server.fault("""{"kind": "delay", "ms": $REFRESH_MS}""")
                coroutineScope {
                    val waiting = launch(start = CoroutineStart.UNDISPATCHED) { http.get("${server.baseUrl}/api/resource") }
                    awaitUntil("the refresh to reach the server") { server.stat("refresh_requests") == 1L }
                    val cancelledAt = System.nanoTime()
                    waiting.cancel()
                    withTimeout(2_000) { waiting.join() }
                    println("KtorPluginTest: cancel to end ${(System.nanoTime() - cancelledAt) / 1_000_000} ms, refresh held $REFRESH_MS ms")
                }
                assertEquals(200, http.get("${server.baseUrl}/api/resource").status.value, "the refresh went on for the next call")
                assertEquals(1L, server.stat("refreshes"))
                assertEquals(1L, server.stat("served"), "only the next call was served; the cancelled one was not replayed")
            }
        }
    }

    private companion object {
        const val REFRESH_MS = 5_000
    }
}
