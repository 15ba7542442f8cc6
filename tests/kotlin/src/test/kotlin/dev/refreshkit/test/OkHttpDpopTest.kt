package dev.refreshkit.test

import dev.refreshkit.SessionException
import dev.refreshkit.okhttp.RefreshKitIOException
import kotlinx.coroutines.runBlocking
import okhttp3.MediaType.Companion.toMediaType
import okhttp3.Request
import okhttp3.RequestBody
import okio.BufferedSink
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** The OkHttp interceptor with DPoP-bound tokens, against `auth-server --dpop-nonce`, which checks every proof. */
class OkHttpDpopTest {
    @Test
    fun `OkHttp requests of a DPoP-bound session are served with valid proofs, a new one for each`() = runBlocking {
        AuthServer("--dpop-nonce").use { server ->
            boundSession(server).use { session ->
                val http = dpopClient(session)
                val url = "${server.baseUrl}/api/resource"
                assertEquals(200, http.code(Request.Builder().url(url).build()), "the first call learns the nonce")
                server.reset()

                repeat(10) { assertEquals(200, http.code(Request.Builder().url(url).build())) }
                repeat(10) { assertEquals(200, http.code(Request.Builder().url(url).post(json("{}")).build())) }
                assertEquals(List(50) { 200 }, http.codesOf(List(50) { Request.Builder().url(url).build() }))

                assertEquals(70L, server.stat("served"))
                assertEquals(0L, server.stat("dpop_refused"), "no proof was refused")
                assertEquals(0L, server.stat("nonce_challenges"))
                val echoes = List(2) { http.echoedHeaders("${server.baseUrl}/echo") }
                for (headers in echoes) {
                    assertEquals("DPoP ${session.accessToken()}", headers["authorization"])
                    assertEquals("GET ${server.baseUrl}/echo", proofClaims(headers.getValue("dpop")))
                }
                assertNotEquals(echoes[0]["dpop"], echoes[1]["dpop"], "a proof is made for one request")
            }
        }
    }

    @Test
    fun `a rotated nonce makes one more send with a new proof and no refresh`() = runBlocking {
        AuthServer("--dpop-nonce").use { server ->
            boundSession(server).use { session ->
                val http = dpopClient(session)
                val url = "${server.baseUrl}/api/resource"
                assertEquals(200, http.code(Request.Builder().url(url).build()))
                repeat(3) { round ->
                    server.reset()
                    server.rotateNonce()
                    val request = if (round == 1) Request.Builder().url(url).post(json("{}")) else Request.Builder().url(url)
                    assertEquals(200, http.code(request.build()), "the second send carries the new nonce")
                    assertEquals(1L, server.stat("nonce_challenges"), "one proof refused for its nonce")
                    assertEquals(1L, server.stat("served"), "then one more send, served")
                    assertEquals(0L, server.stat("refresh_requests"), "a refused proof never refreshes the token")
                    assertEquals(0L, server.stat("dpop_refused"))
                }
            }
        }
    }

    @Test
    fun `an expired DPoP token through OkHttp refreshes once for many concurrent calls and all are served`() = runBlocking {
        AuthServer("--dpop-nonce").use { server ->
            boundSession(server).use { session ->
                val http = dpopClient(session)
                val url = "${server.baseUrl}/api/resource"
                assertEquals(200, http.code(Request.Builder().url(url).build()))
                val before = session.accessToken()
                server.reset()
                server.expireAll()

                val requests = List(BURST) { i -> Request.Builder().url(url).apply { if (i % 2 == 1) post(json("{}")) }.build() }
                assertEquals(List(BURST) { 200 }, http.codesOf(requests))

                assertEquals(1L, server.stat("refreshes"))
                assertEquals(BURST.toLong(), server.stat("served"))
                assertEquals(0L, server.stat("dpop_refused"), "the fresh token went out with proofs")
                assertNotEquals(before, session.accessToken())
                http.dispatcher.executorService.shutdown()
            }
        }
    }

    @Test
    fun `a one-shot body is sent once, and its answer still teaches the nonce`() = runBlocking {
        AuthServer("--dpop-nonce").use { server ->
            boundSession(server).use { session ->
                val http = dpopClient(session)
                val url = "${server.baseUrl}/api/resource"
                assertEquals(200, http.code(Request.Builder().url(url).build()))
                server.reset()
                server.rotateNonce()

                assertEquals(401, http.code(Request.Builder().url(url).post(OneShot()).build()), "a one-shot body is not sent again")
                assertEquals(200, http.code(Request.Builder().url(url).build()))
                assertEquals(1L, server.stat("nonce_challenges"), "the next call used the nonce the 401 taught")
                assertEquals(0L, server.stat("refresh_requests"))
            }
        }
    }

    @Test
    fun `a failing or lost key fails OkHttp calls with the session's IOException`() = runBlocking {
        AuthServer("--dpop-nonce").use { server ->
            val key = RecordingDpopKey(JvmDpopKey())
            boundSession(server, key).use { session ->
                val http = dpopClient(session)
                val request = Request.Builder().url("${server.baseUrl}/api/resource").build()
                assertEquals(200, http.code(request))

                key.failure = "secure hardware busy"
                val failed = assertThrows<RefreshKitIOException> { http.code(request) }
                assertTrue(failed.reason is SessionException.DpopKey, "${failed.reason}")
                key.failure = null
                key.gone = true
                val gone = assertThrows<RefreshKitIOException> { http.code(request) }
                assertTrue(gone.reason is SessionException.SessionExpired, "${gone.reason}")
            }
        }
    }

    /** A body OkHttp may send only once. */
    private class OneShot : RequestBody() {
        override fun contentType() = "application/json".toMediaType()
        override fun isOneShot() = true
        override fun writeTo(sink: BufferedSink) {
            sink.writeUtf8("{}")
        }
    }

    private companion object {
        const val BURST = 100
    }
}
