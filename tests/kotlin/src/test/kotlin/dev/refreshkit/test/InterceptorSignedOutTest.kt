package dev.refreshkit.test

import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.SessionState
import dev.refreshkit.okhttp.RefreshKitIOException
import dev.refreshkit.okhttp.addRefreshKit
import dev.refreshkit.okhttp.requireToken
import kotlinx.coroutines.runBlocking
import okhttp3.OkHttpClient
import okhttp3.Request
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * Without a user, the interceptor sends requests to the token host as they are (the login
 * call, public endpoints); a request marked `requireToken()` fails instead and is never sent.
 */
class InterceptorSignedOutTest {
    private fun signedOut(test: suspend (AuthServer, Session, OkHttpClient) -> Unit) = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                assertEquals(SessionState.SIGNED_OUT, session.restoredState())
                test(server, session, OkHttpClient.Builder().addRefreshKit(session).build())
            }
        }
    }

    private fun OkHttpClient.body(request: Request): Pair<Int, String> =
        newCall(request).execute().use { it.code to it.body!!.string() }

    @Test
    fun `signed out, the login call and a public endpoint on the token host are sent without a token`() = signedOut { server, _, http ->
        val (status, login) = http.body(Request.Builder().url("${server.baseUrl}/login").post(json("{}")).build())
        assertEquals(200, status, "the login call went through")
        assertTrue(login.contains("access_token"))
        val (echoStatus, echoed) = http.body(Request.Builder().url("${server.baseUrl}/echo").build())
        assertEquals(200, echoStatus)
        assertFalse(echoed.contains("authorization"), "no token header without a user")
    }

    @Test
    fun `signed out, a request marked requireToken fails NotSignedIn and is never sent`() = signedOut { server, _, http ->
        val error = assertThrows<RefreshKitIOException> {
            http.newCall(Request.Builder().url("${server.baseUrl}/api/resource").requireToken().build()).execute()
        }
        assertTrue(error.reason is SessionException.NotSignedIn, "${error.reason}")
        assertEquals(0L, server.stat("served") + server.stat("rejected"), "the server saw the request")
    }

    @Test
    fun `after the session expired, the login call to sign in again is sent`() = signedOut { server, session, http ->
        session.signIn(server.login())
        server.expireAll()
        server.fault("""{"kind": "invalid_grant"}""")
        assertThrows<RefreshKitIOException> { http.newCall(Request.Builder().url("${server.baseUrl}/api/resource").build()).execute() }
        assertEquals(SessionState.EXPIRED, session.state())

        val (status, _) = http.body(Request.Builder().url("${server.baseUrl}/login").post(json("{}")).build())
        assertEquals(200, status, "the login call went through")
        val marked = assertThrows<RefreshKitIOException> {
            http.newCall(Request.Builder().url("${server.baseUrl}/api/resource").requireToken().build()).execute()
        }
        assertTrue(marked.reason is SessionException.SessionExpired, "${marked.reason}")
    }
}
