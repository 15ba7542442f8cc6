package dev.refreshkit.test

import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.Tokens
import dev.refreshkit.okhttp.addRefreshKit
import java.net.InetAddress
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import okhttp3.Dns
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.mockwebserver.MockResponse
import okhttp3.mockwebserver.MockWebServer
import okhttp3.mockwebserver.RecordedRequest
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Test
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.CsvSource

/**
 * Which hops of an OkHttp call carry the token. The token host is 127.0.0.1 (and
 * api.example.com, over https only); other.test and api.example.com resolve to loopback
 * here, so two MockWebServers stand in for every host.
 */
class InterceptorRedirectTest {
    private val first = MockWebServer().apply { start(InetAddress.getByName("127.0.0.1"), 0) }
    private val second = MockWebServer().apply { start(InetAddress.getByName("127.0.0.1"), 0) }

    @AfterEach
    fun stop() {
        first.shutdown()
        second.shutdown()
    }

    private fun session(headerName: String = "Authorization"): Session = Session(
        SessionConfig(baseUrl = "http://127.0.0.1:1", headerName = headerName, tokenHosts = listOf("api.example.com")),
        FlakyStore(),
    ).also { runBlocking { it.signIn(Tokens(accessToken = TOKEN, refreshToken = null, expiresAt = null)) } }

    private fun client(session: Session) = OkHttpClient.Builder()
        .dns(object : Dns {
            override fun lookup(hostname: String) = listOf(InetAddress.getByName("127.0.0.1"))
        })
        .addRefreshKit(session)
        .build()

    private fun get(session: Session, url: String, vararg headers: Pair<String, String>): Int {
        val request = Request.Builder().url(url).apply { headers.forEach { (n, v) -> header(n, v) } }.build()
        return client(session).newCall(request).execute().use { it.code }
    }

    private fun MockWebServer.received(): RecordedRequest =
        takeRequest(10, TimeUnit.SECONDS) ?: error("no request reached the server")

    private fun RecordedRequest.carriesToken(): Boolean = headers.any { (_, value) -> value.contains(TOKEN) }

    @ParameterizedTest(name = "{0} with header {1}")
    @CsvSource("301,Authorization", "302,Authorization", "303,Authorization", "307,Authorization", "308,Authorization",
               "301,X-Auth-Token", "302,X-Auth-Token", "303,X-Auth-Token", "307,X-Auth-Token", "308,X-Auth-Token")
    fun `a redirect to another host gets no token in any header`(status: Int, headerName: String) {
        first.enqueue(MockResponse().setResponseCode(status).setHeader("Location", "http://other.test:${second.port}/landing"))
        second.enqueue(MockResponse().setBody("landed"))
        session(headerName).use { session ->
            assertEquals(200, get(session, "http://127.0.0.1:${first.port}/start"))
            assertEquals("Bearer $TOKEN", first.received().getHeader(headerName), "the first hop carries the token")
            assertFalse(second.received().carriesToken(), "token sent across a $status to another host")
        }
    }

    @ParameterizedTest(name = "{0} with header {1}")
    @CsvSource("301,Authorization", "302,Authorization", "303,Authorization", "307,Authorization", "308,Authorization",
               "301,X-Auth-Token", "302,X-Auth-Token", "303,X-Auth-Token", "307,X-Auth-Token", "308,X-Auth-Token")
    fun `a redirect within the token host carries the token on every hop`(status: Int, headerName: String) {
        first.enqueue(MockResponse().setResponseCode(status).setHeader("Location", "/landing"))
        first.enqueue(MockResponse().setBody("landed"))
        session(headerName).use { session ->
            assertEquals(200, get(session, "http://127.0.0.1:${first.port}/start"))
            assertEquals("Bearer $TOKEN", first.received().getHeader(headerName))
            val landing = first.received()
            assertEquals("/landing", landing.path)
            assertEquals("Bearer $TOKEN", landing.getHeader(headerName), "the token is attached again after the $status")
        }
    }

    @ParameterizedTest(name = "header {0}")
    @CsvSource("Authorization", "X-Auth-Token")
    fun `a redirect to plain http on a token host off loopback gets no token`(headerName: String) {
        first.enqueue(MockResponse().setResponseCode(302).setHeader("Location", "http://api.example.com:${second.port}/landing"))
        second.enqueue(MockResponse())
        session(headerName).use { session ->
            get(session, "http://127.0.0.1:${first.port}/start")
            assertFalse(second.received().carriesToken(), "token sent over plain http off loopback")
        }
    }

    @Test
    fun `plain http to a token host off loopback gets no token`() {
        first.enqueue(MockResponse())
        session().use { session ->
            get(session, "http://api.example.com:${first.port}/me")
            assertFalse(first.received().carriesToken(), "token sent over plain http off loopback")
        }
    }

    @Test
    fun `the app's own Authorization header to another host is left alone`() {
        first.enqueue(MockResponse())
        session().use { session ->
            get(session, "http://other.test:${first.port}/other-service", "Authorization" to "Basic app-own")
            assertEquals("Basic app-own", first.received().getHeader("Authorization"))
        }
    }

    @Test
    fun `401s from a redirect target the token never reached refresh nothing`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                session.signIn(server.login())
                repeat(25) { second.enqueue(MockResponse().setResponseCode(401)) }
                val elsewhere = "http://other.test:${second.port}/denied"
                repeat(25) { assertEquals(401, get(session, "${server.baseUrl}/redirect?to=$elsewhere")) }
                assertEquals(0L, server.stat("refresh_requests"), "a 401 the token never met refreshed it")
                assertEquals(200, get(session, "${server.baseUrl}/api/resource"), "the session still works")
            }
        }
    }

    private companion object {
        const val TOKEN = "secret-access-token"
    }
}
