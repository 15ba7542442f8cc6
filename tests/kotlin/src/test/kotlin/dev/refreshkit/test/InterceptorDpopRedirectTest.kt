package dev.refreshkit.test

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
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.CsvSource

/**
 * Which hops of an OkHttp call carry a DPoP-bound token and its proof. The auth server
 * (`--dpop-nonce`) and a MockWebServer are on 127.0.0.1, a token host; other.test
 * resolves to loopback here and is no token host.
 */
class InterceptorDpopRedirectTest {
    private val onTokenHost = MockWebServer().apply { start(InetAddress.getByName("127.0.0.1"), 0) }
    private val elsewhere = MockWebServer().apply { start(InetAddress.getByName("127.0.0.1"), 0) }

    @AfterEach
    fun stop() {
        onTokenHost.shutdown()
        elsewhere.shutdown()
    }

    private val dns = object : Dns {
        override fun lookup(hostname: String) = listOf(InetAddress.getByName("127.0.0.1"))
    }

    private fun request(url: String, method: String): Request =
        Request.Builder().url(url).apply { if (method == "POST") post(json("{}")) }.build()

    @ParameterizedTest(name = "{0} answered {1}")
    @CsvSource("GET,302", "GET,307", "POST,301", "POST,302", "POST,303", "POST,307", "POST,308")
    fun `a redirect to another path on the token host gets a fresh proof for its own method and URL`(method: String, status: Int) =
        runBlocking {
            AuthServer("--dpop-nonce").use { server ->
                boundSession(server).use { session ->
                    val http = dpopClient(session, OkHttpClient.Builder().dns(dns))
                    val resource = "${server.baseUrl}/api/resource"
                    assertEquals(200, http.code(request(resource, method)), "the first call learns the nonce")
                    server.reset()

                    val start = "${server.baseUrl}/redirect?to=/api/resource&status=$status"
                    assertEquals(200, http.code(request(start, method)), "the proof made for the redirect's target is accepted")
                    assertEquals(1L, server.stat("served"))
                    assertEquals(0L, server.stat("dpop_refused"), "no hop reused another hop's proof")
                }
            }
        }

    @ParameterizedTest(name = "{0} answered {1}")
    @CsvSource("GET,302", "GET,307", "POST,301", "POST,302", "POST,303", "POST,307", "POST,308")
    fun `a redirect to a host that may not receive the token carries neither Authorization nor DPoP`(method: String, status: Int) =
        runBlocking {
            AuthServer("--dpop-nonce").use { server ->
                boundSession(server).use { session ->
                    val token = session.accessToken()
                    onTokenHost.enqueue(MockResponse().setResponseCode(status).setHeader("Location", "http://other.test:${elsewhere.port}/landing"))
                    elsewhere.enqueue(MockResponse().setBody("landed"))
                    val http = dpopClient(session, OkHttpClient.Builder().dns(dns))
                    val start = "http://127.0.0.1:${onTokenHost.port}/start"

                    assertEquals(200, http.code(request(start, method)))

                    val first = onTokenHost.received()
                    assertEquals("DPoP $token", first.getHeader("Authorization"), "the first hop carries the token")
                    assertEquals("$method $start", proofClaims(first.getHeader("DPoP")!!), "with a proof for itself")
                    val landed = elsewhere.received()
                    assertNull(landed.getHeader("Authorization"), "the token header followed the $status")
                    assertNull(landed.getHeader("DPoP"), "a proof followed the $status")
                    assertFalse(landed.headers.any { (_, value) -> token in value }, "the token followed the $status")
                }
            }
        }

    private fun MockWebServer.received(): RecordedRequest =
        takeRequest(10, TimeUnit.SECONDS) ?: error("no request reached the server")
}
