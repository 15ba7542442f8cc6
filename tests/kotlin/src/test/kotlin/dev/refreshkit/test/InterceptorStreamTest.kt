package dev.refreshkit.test

import dev.refreshkit.BodyRule
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.Tokens
import dev.refreshkit.okhttp.addRefreshKit
import java.net.InetAddress
import java.net.ServerSocket
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread
import kotlinx.coroutines.runBlocking
import okhttp3.OkHttpClient
import okhttp3.Request
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource

/**
 * With a body rule, the interceptor looks at answers that may be a JSON document; a stream
 * (its first event now, the next after [REST_MS]) reaches the app as it comes. The bound
 * below is well under [REST_MS]: a look that waits for 64 KiB or the end fails it.
 */
class InterceptorStreamTest {
    /** One HTTP/1.1 exchange on loopback: the first event, then the rest once [release] opens. */
    private class StreamServer(private val contentType: String?) : AutoCloseable {
        private val socket = ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))
        val release = CountDownLatch(1)
        val baseUrl = "http://127.0.0.1:${socket.localPort}"
        private val worker = thread(isDaemon = true) {
            socket.accept().use { client ->
                val input = client.getInputStream().bufferedReader(Charsets.ISO_8859_1)
                while (input.readLine()?.isNotEmpty() == true) Unit
                val out = client.getOutputStream()
                fun chunk(text: String) = out.write("${Integer.toHexString(text.length)}\r\n$text\r\n".toByteArray())
                val type = contentType?.let { "Content-Type: $it\r\n" } ?: ""
                out.write("HTTP/1.1 200 OK\r\n${type}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".toByteArray())
                chunk("{\"event\":1}\n")
                out.flush()
                release.await(REST_MS, TimeUnit.MILLISECONDS)
                chunk("{\"event\":2}\n")
                out.write("0\r\n\r\n".toByteArray())
                out.flush()
            }
        }

        override fun close() {
            release.countDown()
            worker.join(REST_MS)
            socket.close()
        }
    }

    @ParameterizedTest(name = "Content-Type {0}")
    @ValueSource(strings = ["application/x-ndjson", "application/json-seq", "application/stream+json", "none"])
    fun `with a body rule, a stream's first event reaches the app before the rest is sent`(contentType: String) = runBlocking {
        StreamServer(contentType.takeIf { it != "none" }).use { server ->
            val config = SessionConfig(baseUrl = server.baseUrl, expiredBodyRule = BodyRule(pointer = "/code", values = listOf("1002")))
            Session(config, FlakyStore()).use { session ->
                session.signIn(Tokens(accessToken = "stream-test-token", refreshToken = null, expiresAt = null))
                val http = OkHttpClient.Builder().addRefreshKit(session).build()
                val call = http.newCall(Request.Builder().url("${server.baseUrl}/events").build())
                val first = CompletableFuture.supplyAsync {
                    val response = call.execute()
                    response to response.body!!.source().readUtf8LineStrict()
                }
                val (response, event) = first.get(3, TimeUnit.SECONDS)
                response.use {
                    assertEquals("{\"event\":1}", event, "the first event, before the rest")
                    server.release.countDown()
                    assertEquals("{\"event\":2}", it.body!!.source().readUtf8LineStrict())
                }
            }
        }
    }

    private companion object {
        const val REST_MS = 8_000L
    }
}
