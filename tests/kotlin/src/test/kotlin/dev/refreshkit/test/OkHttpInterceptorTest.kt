package dev.refreshkit.test

import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionInterface
import dev.refreshkit.TokenLease
import dev.refreshkit.okhttp.RefreshKitIOException
import dev.refreshkit.okhttp.addRefreshKit
import java.io.IOException
import java.util.concurrent.atomic.AtomicInteger
import okhttp3.Dispatcher
import okhttp3.OkHttpClient
import okhttp3.Request
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import kotlinx.coroutines.runBlocking

class OkHttpInterceptorTest {
    private fun client(session: Session) = OkHttpClient.Builder()
        // Every call on its own dispatcher thread at once: the worst case for a lock.
        .dispatcher(Dispatcher().apply { maxRequests = 200; maxRequestsPerHost = 200 })
        .addRefreshKit(session)
        .build()

    @Test
    fun `200 concurrent OkHttp calls across an expiry make one refresh`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                session.signIn(server.login())
                server.expireAll()
                val http = client(session)
                val codes = http.codesOf(List(200) { Request.Builder().url("${server.baseUrl}/api/resource").build() })

                assertEquals(List(200) { 200 }, codes)
                assertEquals(1L, server.stat("refreshes"))
                http.dispatcher.executorService.shutdown()
            }
        }
    }

    @Test
    fun `an expired session fails OkHttp calls with an IOException and other hosts get no token`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                session.signIn(server.login())
                val http = client(session)
                val foreign = http.newCall(Request.Builder().url("http://localhost:${server.port}/echo").build()).execute()
                assertTrue(!foreign.body!!.string().contains("authorization"), "token sent to another host")

                server.expireAll()
                server.fault("""{"kind": "invalid_grant"}""")
                val error = assertThrows<RefreshKitIOException> {
                    http.newCall(Request.Builder().url("${server.baseUrl}/api/resource").build()).execute()
                }
                assertTrue(error.reason is dev.refreshkit.SessionException.SessionExpired)
                assertEquals("refreshkit: session expired: the refresh token was rejected", error.message, "the core's text")
            }
        }
    }

    /** Counts the calls that cross the bindings for a token. */
    private class CountingSession(val inner: Session) : SessionInterface by inner {
        val leases = AtomicInteger()
        val rules = AtomicInteger()

        override suspend fun accessTokenLease(): TokenLease = inner.accessTokenLease().also { leases.incrementAndGet() }

        override fun accessTokenLeaseBlocking(): TokenLease = inner.accessTokenLeaseBlocking().also { leases.incrementAndGet() }

        override fun tokenHeaderFor(url: String, accessToken: String) = inner.tokenHeaderFor(url, accessToken).also { rules.incrementAndGet() }

        override fun mayReceiveToken(url: String) = inner.mayReceiveToken(url).also { rules.incrementAndGet() }

        override fun isExpiredResponse(status: UShort, body: ByteArray) = inner.isExpiredResponse(status, body).also { rules.incrementAndGet() }
    }

    @Test
    fun `the interceptor's cached token gives way to a refreshed one and to sign-out`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { real ->
                val session = CountingSession(real)
                val login = server.login()
                session.signIn(login)
                val http = OkHttpClient.Builder().addRefreshKit(session).build()
                fun echoed() = http.newCall(Request.Builder().url("${server.baseUrl}/echo").build()).execute().use { it.body!!.string() }
                repeat(20) { assertTrue(echoed().contains(login.accessToken)) }
                assertEquals(1, session.leases.get(), "one lease served every request while the token was current")
                assertEquals(3, session.rules.get(), "the rules were asked once each (host, header, status 200), not per request")

                server.expireAll()
                http.newCall(Request.Builder().url("${server.baseUrl}/api/resource").build()).execute().use { assertEquals(200, it.code) }
                val rotated = session.accessToken()
                assertTrue(rotated != login.accessToken)
                assertTrue(echoed().contains(rotated), "the new token, not the cached one")
                assertEquals(2, session.leases.get())

                session.signOut()
                assertTrue(!echoed().contains(rotated), "signed out, the cached token is not sent")
            }
        }
    }

    @Test
    fun `the interceptor refreshes on the session's body rule (200 with code 1002) and replays`() = runBlocking {
        AuthServer().use { server ->
            Session(recipeConfig(server.baseUrl), FlakyStore()).use { session ->
                session.signIn(server.login())
                server.expireAll()
                val http = OkHttpClient.Builder().addRefreshKit(session).build()
                val body = http.newCall(Request.Builder().url("${server.baseUrl}/app/resource").build()).execute()
                    .use { it.body!!.string() }
                assertTrue(body.contains("\"code\":0"), "the replayed answer, not the expiry one")
                assertEquals(1L, server.stat("refreshes"))
            }
        }
    }

    @Test
    fun `a closed session fails OkHttp calls with an IOException, not a crash of the dispatcher`() {
        val session = Session(SessionConfig(baseUrl = "http://127.0.0.1:1"), FlakyStore())
        val http = OkHttpClient.Builder().addRefreshKit(session).build()
        session.close()
        val error = assertThrows<IOException> { http.newCall(Request.Builder().url("http://127.0.0.1:1/me").build()).execute() }
        assertEquals("refreshkit: IllegalStateException", error.message, "the session's failure, before any connection")
    }
}
