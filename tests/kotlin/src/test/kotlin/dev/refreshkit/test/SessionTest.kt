package dev.refreshkit.test

import dev.refreshkit.ExpiryReason
import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionEvent
import dev.refreshkit.SessionException
import dev.refreshkit.SessionState
import java.nio.file.Files
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class SessionTest {
    @Test
    fun `1000 coroutines on Dispatchers IO meet an expired token and share one refresh`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                session.signIn(server.login())
                server.expireAll()

                val statuses = withContext(Dispatchers.IO) {
                    (1..1000).map { async { session.execute(HttpRequest(url = "/api/resource")).status } }.awaitAll()
                }

                assertEquals(List(1000) { 200.toUShort() }, statuses)
                assertEquals(1L, server.stat("refreshes"))
                assertEquals(1000UL, session.metrics().requests)
            }
        }
    }

    @Test
    fun `a Kotlin store persists rotated tokens and a new session on it is still signed in`(): Unit = runBlocking {
        AuthServer().use { server ->
            val file = Files.createTempFile("refreshkit", ".tokens").toFile().apply { delete() }
            val store = FileStore(file)
            val first = server.login()
            Session(SessionConfig(baseUrl = server.baseUrl), store).use { session ->
                session.signIn(first)
                server.expireAll()
                assertEquals(200.toUShort(), session.execute(HttpRequest(url = "/api/resource")).status)
            }
            val saved = store.load()!!
            assertNotEquals(first.refreshToken, saved.refreshToken)
            assertEquals(2, store.saves, "sign-in and one refresh")
            assertEquals("openid api", saved.scope, "the answer's other fields reach the app's store")
            assertEquals("Bearer", saved.tokenType)
            assertNotNull(saved.idToken)

            Session(SessionConfig(baseUrl = server.baseUrl), FileStore(file)).use { restarted ->
                assertEquals(SessionState.ACTIVE, restarted.restoredState())
                assertEquals(saved.accessToken, restarted.accessToken())
                assertEquals(200.toUShort(), restarted.execute(HttpRequest(url = "/api/resource")).status)
            }
            assertEquals(1L, server.stat("refreshes"))
            assertTrue(file.delete())
        }
    }

    @Test
    fun `a Kotlin store that throws gives a typed exception and leaves the session as it was`() = runBlocking {
        AuthServer().use { server ->
            val store = FlakyStore(server.login()).apply { failLoad = FlakyStore.locked() }
            Session(SessionConfig(baseUrl = server.baseUrl), store).use { session ->
                assertEquals(SessionState.LOCKED, session.restoredState())
                assertThrows<SessionException.Store> { runBlocking { session.execute(HttpRequest(url = "/api/resource")) } }

                // Not a StoreException at all: still a typed error, not a crash.
                store.failLoad = IllegalStateException("keystore exploded")
                val error = assertThrows<SessionException.Store> { runBlocking { session.accessToken() } }
                assertTrue(error.detail.contains("keystore exploded"), error.detail)

                store.failLoad = null
                assertEquals(200.toUShort(), session.execute(HttpRequest(url = "/api/resource")).status)
                store.failSave = RuntimeException("disk full")
                assertThrows<SessionException.Store> { runBlocking { session.signIn(server.login()) } }
                assertEquals(SessionState.ACTIVE, session.state())
            }
        }
    }

    @Test
    fun `cancelling the coroutine that started a refresh does not lose the refresh`() = runBlocking {
        AuthServer().use { server ->
            val store = FlakyStore()
            val recorder = Recorder()
            Session(SessionConfig(baseUrl = server.baseUrl), store, recorder).use { session ->
                val first = server.login()
                session.signIn(first)
                server.expireAll()
                server.fault("""{"kind": "delay", "ms": 500}""")

                val starter = launch(Dispatchers.IO) { session.execute(HttpRequest(url = "/api/resource")) }
                delay(150)
                starter.cancelAndJoin()
                recorder.awaitUntil { SessionEvent.Refreshed in it }

                assertNotEquals(first.refreshToken, store.tokens!!.refreshToken)
                assertEquals(200.toUShort(), session.execute(HttpRequest(url = "/api/resource")).status)
                assertEquals(1L, server.stat("refreshes"))
            }
        }
    }

    @Test
    fun `the listener sees refreshed, expired and signed-out events in order`() = runBlocking {
        AuthServer().use { server ->
            val recorder = Recorder()
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore(), recorder).use { session ->
                session.signIn(server.login())
                server.expireAll()
                session.execute(HttpRequest(url = "/api/resource"))
                server.expireAll()
                server.fault("""{"kind": "invalid_grant"}""")
                val error = assertThrows<SessionException.SessionExpired> {
                    runBlocking { session.execute(HttpRequest(url = "/api/resource")) }
                }
                assertEquals(ExpiryReason.REFRESH_REJECTED, error.reason)
                session.signOut()

                val events = recorder.awaitUntil { SessionEvent.SignedOut in it }
                val kinds = events.filter { it !is SessionEvent.RefreshFailed }.map { it::class.simpleName }
                assertEquals(listOf("SignedIn", "Refreshed", "Expired", "SignedOut"), kinds)
            }
        }
    }

    @Test
    fun `sign-out with a revocationPath revokes the refresh token at the auth server`() = runBlocking {
        AuthServer().use { server ->
            val config = SessionConfig(baseUrl = server.baseUrl, revocationPath = "/oauth/revoke")
            val recorder = Recorder()
            Session(config, FlakyStore(), recorder).use { session ->
                session.signIn(server.login())

                session.signOut()

                assertEquals(SessionState.SIGNED_OUT, session.state(), "signed out here before the provider is told")
                withTimeout(30_000) { while (server.stat("revoked_refresh_tokens") < 1L) delay(10) }
                assertEquals(1L, server.stat("revocation_requests"))
                val events = recorder.awaitUntil { SessionEvent.SignedOut in it }
                assertEquals(listOf<SessionEvent>(SessionEvent.SignedIn, SessionEvent.SignedOut), events, "no RevocationFailed")
            }
        }
    }

    @Test
    fun `the code 1002 JSON protocol works from Kotlin`() = runBlocking {
        AuthServer().use { server ->
            Session(recipeConfig(server.baseUrl), FlakyStore()).use { session ->
                session.signIn(server.login())
                server.expireAll()

                val bodies = withContext(Dispatchers.IO) {
                    (1..50).map { async { session.execute(HttpRequest(url = "/app/resource")).body.decodeToString() } }.awaitAll()
                }

                assertTrue(bodies.all { it.contains("\"code\":0") }, bodies.first())
                assertEquals(1L, server.stat("refreshes"))
            }
        }
    }

    @Test
    fun `Tokens toString shows no secret`() {
        val text = dev.refreshkit.Tokens(accessToken = "secret-access", refreshToken = "secret-refresh").toString()
        assertTrue(!text.contains("secret-access") && !text.contains("secret-refresh"), text)
        assertTrue(text.contains("redacted"), text)
    }

    @Test
    fun `bad input from Kotlin gets typed errors`() = runBlocking {
        AuthServer().use { server ->
            assertThrows<SessionException.InvalidConfig> { Session(SessionConfig(baseUrl = "http://example.com"), FlakyStore()) }
            assertThrows<SessionException.InvalidConfig> { Session(SessionConfig(baseUrl = ""), FlakyStore()) }
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                assertThrows<SessionException.NotSignedIn> { runBlocking { session.accessToken() } }
                session.signIn(server.login())
                for (url in listOf("", "http://[bad", "http://example.com/x")) {
                    assertThrows<SessionException.InvalidRequest> { runBlocking { session.execute(HttpRequest(url = url)) } }
                }
                val huge = dev.refreshkit.HttpHeader("X-Huge", "a".repeat(200_000))
                val answer = runCatching { session.execute(HttpRequest(url = "/api/resource", headers = listOf(huge))) }
                assertTrue(answer.isSuccess || answer.exceptionOrNull() is SessionException, "$answer")
            }
        }
    }
}
