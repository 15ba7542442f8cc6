package dev.refreshkit.test

import dev.refreshkit.BodyRule
import dev.refreshkit.HttpResponse
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionState
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.ktx.RefreshKitJvm
import dev.refreshkit.ktx.SessionConfigBuilder
import dev.refreshkit.ktx.bodyText
import dev.refreshkit.ktx.code
import dev.refreshkit.ktx.contentEquals
import dev.refreshkit.ktx.contentHashCode
import dev.refreshkit.ktx.header
import dev.refreshkit.ktx.headerMap
import dev.refreshkit.ktx.httpRequest
import dev.refreshkit.ktx.requestTimeout
import dev.refreshkit.ktx.sessionConfig
import dev.refreshkit.ktx.timeout
import dev.refreshkit.ktx.withTimeout
import dev.refreshkit.SessionException
import dev.refreshkit.Tokens
import java.lang.reflect.Modifier
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** The Kotlin layer's API over the generated types: durations, Int statuses, header maps, byte equality. */
class KotlinApiTest {
    @Test
    fun `sessionConfig takes durations and Int statuses and fills the generated fields`() {
        val built = sessionConfig("https://api.example.com") {
            requestTimeout(5.seconds)
            refreshTimeout(java.time.Duration.ofSeconds(7))
            storeTimeout(250.milliseconds)
            refreshLeeway(2.seconds)
            expiredStatuses(401, 419)
            expiredBodyRule("/code", "1002")
            tokenHeader("X-Token", "")
            refreshGuard(5, 10.seconds)
            maxConcurrentRequests(8)
            maxResponseBytes(1024)
        }
        val expected = SessionConfig(
            baseUrl = "https://api.example.com",
            requestTimeoutMs = 5_000u,
            refreshTimeoutMs = 7_000u,
            storeTimeoutMs = 250u,
            refreshLeewayMs = 2_000u,
            expiredStatuses = listOf(401u, 419u),
            expiredBodyRule = BodyRule(pointer = "/code", values = listOf("1002")),
            headerName = "X-Token",
            headerScheme = "",
            maxRefreshesPerWindow = 5u,
            refreshWindowMs = 10_000u,
            maxConcurrentRequests = 8u,
            maxResponseBytes = 1024u,
        )
        assertEquals(expected, built)
        assertEquals(5.seconds, built.requestTimeout)
        assertEquals(SessionConfig(baseUrl = "https://a.example"), sessionConfig("https://a.example"), "unset means the generated defaults")
    }

    @Test
    fun `Java can build a config through the builder's plain methods`() {
        // What javac sees: methods named as written, taking java.time.Duration and int[],
        // not the mangled names Kotlin gives functions over unsigned or inline types.
        val builder = SessionConfigBuilder::class.java.getConstructor(String::class.java).newInstance("https://api.example.com")
        SessionConfigBuilder::class.java.getMethod("requestTimeout", java.time.Duration::class.java)
            .invoke(builder, java.time.Duration.ofSeconds(3))
        SessionConfigBuilder::class.java.getMethod("expiredStatuses", IntArray::class.java).invoke(builder, intArrayOf(403))
        val config = SessionConfigBuilder::class.java.getMethod("build").invoke(builder) as SessionConfig
        assertEquals(3_000uL, config.requestTimeoutMs)
        assertEquals(listOf<UShort>(403u), config.expiredStatuses)
        val factory = RefreshKitJvm::class.java.getMethod("session", SessionConfig::class.java, dev.refreshkit.TokenStore::class.java)
        assertTrue(Modifier.isStatic(factory.modifiers), "RefreshKitJvm.session(config, store) is a static method for Java")
    }

    @Test
    fun `the builder refuses a negative or infinite duration and a status that is not HTTP`() {
        val builder = SessionConfigBuilder("https://api.example.com")
        assertThrows<IllegalArgumentException> { builder.requestTimeout((-1).seconds) }
        assertThrows<IllegalArgumentException> { builder.refreshTimeout(Duration.INFINITE) }
        assertThrows<IllegalArgumentException> { builder.expiredStatuses(401, 1002) }
        assertThrows<IllegalArgumentException> { builder.maxConcurrentRequests(-1) }
        assertThrows<IllegalArgumentException> { httpRequest("/me").withTimeout((-5).milliseconds) }
        assertEquals(SessionConfig(baseUrl = "https://api.example.com"), builder.build(), "a refused setting changed nothing")
    }

    @Test
    fun `a session from sessionConfig refreshes on its body rule and answers with Int status and header map`() = runBlocking {
        AuthServer().use { server ->
            val config = sessionConfig(server.baseUrl) {
                refreshPath("/app/renewal")
                expiredStatuses()
                expiredBodyRule("/code", "1002")
                refreshProtocol(recipeConfig(server.baseUrl).refreshProtocol!!)
                requestTimeout(5.seconds)
            }
            ObservableSession(config, FlakyStore()).use { session ->
                session.signIn(server.login())
                assertEquals(SessionState.ACTIVE, session.restoredState())
                server.expireAll()
                val answer = session.execute(httpRequest("/app/resource").withTimeout(2.seconds))
                assertEquals(200, answer.code)
                assertTrue(answer.bodyText().contains("\"code\":0"), "the replayed answer, not the expiry one")
                assertEquals(1L, server.stat("refreshes"))
                assertEquals(answer.header("content-type"), answer.headerMap["Content-Type"]?.first(), "names ignore case")

                val echoed = session.execute(httpRequest("/echo", headers = mapOf("X-Trace" to "abc"))).bodyText()
                assertTrue(echoed.contains("\"x-trace\":\"abc\""), "the map's header was sent")
            }
        }
    }

    @Test
    fun `Java signs in, sends and signs out through ObservableSession's futures, and gets the typed error`() {
        AuthServer().use { server ->
            ObservableSession(SessionConfigBuilder(server.baseUrl).build(), FlakyStore()).use { session ->
                assertEquals(SessionState.SIGNED_OUT, session.restoredStateAsync().get(10, TimeUnit.SECONDS))
                session.signInAsync(server.login()).get(10, TimeUnit.SECONDS)
                assertEquals(200, session.executeAsync(httpRequest("/api/resource")).get(10, TimeUnit.SECONDS).code)
                session.signOutAsync().get(10, TimeUnit.SECONDS)
                val failed = assertThrows<ExecutionException> { session.executeAsync(httpRequest("/api/resource")).get(10, TimeUnit.SECONDS) }
                assertTrue(failed.cause is SessionException.NotSignedIn, "${failed.cause}")
            }
        }
        // Plain methods for javac: no suspend, no inline-class parameters.
        ObservableSession::class.java.getMethod("signInAsync", Tokens::class.java)
        ObservableSession::class.java.getMethod("executeAsync", dev.refreshkit.HttpRequest::class.java)
    }

    @Test
    fun `requests and responses with the same bytes are contentEquals though == compares arrays by identity`() {
        val answer = HttpResponse(status = 200u, headers = listOf(), body = "{\"ok\":true}".toByteArray())
        val copy = answer.copy(body = answer.body.copyOf())
        assertNotEquals(answer, copy, "the generated data class compares the body array by identity")
        assertTrue(answer.contentEquals(copy))
        assertEquals(answer.contentHashCode(), copy.contentHashCode())
        assertFalse(answer.contentEquals(copy.copy(body = "{\"ok\":false}".toByteArray())))
        assertFalse(answer.contentEquals(copy.copy(status = 201u)))

        val request = httpRequest("/upload", "POST", mapOf("Content-Type" to "text/plain"), "hi".toByteArray())
        val same = httpRequest("/upload", "POST", mapOf("Content-Type" to "text/plain"), "hi".toByteArray())
        assertNotEquals(request, same)
        assertTrue(request.contentEquals(same))
        assertEquals(request.contentHashCode(), same.contentHashCode())
        assertFalse(request.contentEquals(same.withTimeout(1.seconds)))
        assertFalse(request.contentEquals(httpRequest("/upload", "POST", mapOf("Content-Type" to "text/plain"), "ho".toByteArray())))
        assertNull(request.timeout)
        assertEquals(1.seconds, same.withTimeout(1.seconds).timeout)
    }
}
