package dev.refreshkit.test

import dev.refreshkit.Session
import dev.refreshkit.ktor.RefreshKit
import io.ktor.client.HttpClient
import io.ktor.client.engine.cio.CIO
import io.ktor.client.request.get
import io.ktor.client.request.post
import io.ktor.client.request.setBody
import io.ktor.client.statement.bodyAsText
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The Ktor plugin with DPoP-bound tokens, against `auth-server --dpop-nonce`, which checks every proof. */
class KtorDpopTest {
    private fun client(session: Session) = HttpClient(CIO) { install(RefreshKit) { this.session = session } }

    private fun bound(test: suspend (AuthServer, Session, HttpClient) -> Unit) = AuthServer("--dpop-nonce").use { server ->
        runBlocking {
            boundSession(server).use { session ->
                client(session).use { http ->
                    assertEquals(200, http.get("${server.baseUrl}/api/resource").status.value, "the first call learns the nonce")
                    server.reset()
                    test(server, session, http)
                }
            }
        }
    }

    @Test
    fun `Ktor requests of a DPoP-bound session are served with valid proofs, a new one for each`() = bound { server, session, http ->
        repeat(10) { assertEquals(200, http.get("${server.baseUrl}/api/resource").status.value) }
        repeat(10) { assertEquals(200, http.post("${server.baseUrl}/api/resource") { setBody("{}") }.status.value) }
        assertEquals(20L, server.stat("served"))
        assertEquals(0L, server.stat("dpop_refused"), "no proof was refused")
        assertEquals(0L, server.stat("nonce_challenges"))
        val echoes = List(2) { http.get("${server.baseUrl}/echo").bodyAsText() }
        for (echo in echoes) assertTrue(echo.contains("\"authorization\":\"DPoP ${session.accessToken()}\""), "the bound token as DPoP")
        assertNotEquals(proofOf(echoes[0]), proofOf(echoes[1]), "a proof is made for one request")
    }

    @Test
    fun `a rotated nonce makes one more Ktor send with a new proof and no refresh`() = bound { server, _, http ->
        repeat(2) {
            server.reset()
            server.rotateNonce()
            assertEquals(200, http.get("${server.baseUrl}/api/resource").status.value, "the second send carries the new nonce")
            assertEquals(1L, server.stat("nonce_challenges"), "one proof refused for its nonce")
            assertEquals(1L, server.stat("served"), "then one more send, served")
            assertEquals(0L, server.stat("refresh_requests"), "a refused proof never refreshes the token")
        }
    }

    @Test
    fun `an expired DPoP token refreshes once for 20 concurrent Ktor calls and all are served with proofs`() = bound { server, session, http ->
        val before = session.accessToken()
        server.expireAll()
        val codes = coroutineScope { List(20) { async { http.get("${server.baseUrl}/api/resource").status.value } }.awaitAll() }
        assertEquals(List(20) { 200 }, codes)
        assertEquals(1L, server.stat("refreshes"))
        assertEquals(20L, server.stat("served"))
        assertEquals(0L, server.stat("dpop_refused"), "the fresh token went out with proofs")
        assertNotEquals(before, session.accessToken())
    }

    private fun proofOf(echo: String): String =
        Regex("\"dpop\":\"([^\"]+)\"").find(echo)?.groupValues?.get(1) ?: error("no DPoP header was sent")
}
