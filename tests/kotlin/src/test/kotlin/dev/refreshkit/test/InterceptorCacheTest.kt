package dev.refreshkit.test

import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.Tokens
import dev.refreshkit.okhttp.addRefreshKit
import java.io.File
import java.net.InetAddress
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import okhttp3.Cache
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.mockwebserver.MockResponse
import okhttp3.mockwebserver.MockWebServer
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource

/**
 * No token at rest outside the store: an answer that varies on the token's header would
 * make OkHttp's `Cache` write the request's value of that header (the token) to its
 * directory. Such an answer is never stored; the app still sees the server's `Vary`.
 */
class InterceptorCacheTest {
    private val server = MockWebServer().apply { start(InetAddress.getByName("127.0.0.1"), 0) }
    private val dir: File = Files.createTempDirectory("refreshkit-cache").toFile()

    @AfterEach
    fun stop() {
        server.shutdown()
        dir.deleteRecursively()
    }

    @ParameterizedTest(name = "header {0}")
    @ValueSource(strings = ["Authorization", "X-Api-Token"])
    fun `an answer that varies on the token header leaves no token in OkHttp's cache directory`(headerName: String) = runBlocking {
        val base = server.url("/").toString().trimEnd('/')
        Session(SessionConfig(baseUrl = base, headerName = headerName), FlakyStore()).use { session ->
            session.signIn(Tokens(accessToken = TOKEN, refreshToken = null, expiresAt = null))
            val cache = Cache(dir, 1L shl 20)
            val http = OkHttpClient.Builder().cache(cache).addRefreshKit(session).build()
            val vary = "Accept-Encoding, ${headerName.lowercase()}"
            repeat(2) {
                server.enqueue(MockResponse().setBody("{\"me\":1}").setHeader("Cache-Control", "private, max-age=600").setHeader("Vary", vary))
            }
            repeat(2) {
                http.newCall(Request.Builder().url("$base/me").build()).execute().use { response ->
                    assertEquals(200, response.code)
                    assertEquals(vary, response.header("Vary"), "the app sees the server's Vary")
                    assertEquals("{\"me\":1}", response.body!!.string())
                }
                val sent = server.takeRequest(10, TimeUnit.SECONDS) ?: error("no request reached the server")
                assertTrue(sent.headers.any { (_, value) -> value.contains(TOKEN) }, "the request carried the token")
            }
            cache.flush()
            val leaked = dir.walk().filter { it.isFile && String(it.readBytes(), Charsets.ISO_8859_1).contains(TOKEN) }.map { it.name }.toList()
            assertEquals(emptyList<String>(), leaked, "cache files holding the token")
            assertEquals(2, server.requestCount, "no cached answer served without the token")
            cache.close()
        }
    }

    private companion object {
        const val TOKEN = "cache-test-token-7f3a9c"
    }
}
