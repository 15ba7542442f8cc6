package dev.refreshkit.test

import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.SessionState
import dev.refreshkit.StepUpChallenge
import dev.refreshkit.StepUpReason
import dev.refreshkit.okhttp.addRefreshKit
import dev.refreshkit.okhttp.stepUpChallenge
import java.net.URLEncoder
import kotlinx.coroutines.runBlocking
import okhttp3.OkHttpClient
import okhttp3.Request
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * A resource server asking for a step-up login (RFC 9470 `insufficient_user_authentication`,
 * RFC 6750 `insufficient_scope`) is answered with no refresh: `execute` throws
 * `SessionException.StepUpRequired`, the OkHttp interceptor hands the answer over and
 * `Response.stepUpChallenge()` reads it.
 */
class StepUpTest {
    private val strongerLogin =
        """Bearer error="insufficient_user_authentication", acr_values="urn:example:mfa", max_age=300"""
    private val moreScope = """Bearer realm="api", error="insufficient_scope", scope="orders:write""""

    /** `/api/challenge`, answering a token it takes with [status] and [challenge] (200 without one). */
    private fun AuthServer.challengeUrl(status: Int, challenge: String?): String {
        val field = challenge?.let { "&www_authenticate=" + URLEncoder.encode(it, Charsets.UTF_8) } ?: ""
        return "$baseUrl/api/challenge?status=$status$field"
    }

    /** Fails when the 401 is taken for an expired token: a refresh, a replay, and no exception. */
    @Test
    fun `execute throws StepUpRequired with acr_values and max_age and refreshes nothing`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                session.signIn(server.login())

                val error = assertThrows<SessionException.StepUpRequired> {
                    runBlocking { session.execute(HttpRequest(url = server.challengeUrl(401, strongerLogin))) }
                }

                val wanted = StepUpChallenge(StepUpReason.INSUFFICIENT_USER_AUTHENTICATION, "urn:example:mfa", 300UL, null)
                assertEquals(wanted, error.challenge)
                assertEquals(
                    "the server wants a step-up login: insufficient_user_authentication",
                    error.message,
                    "the core's text",
                )
                assertEquals(0L, server.stat("refresh_requests"))
                assertEquals(1L, server.stat("step_up_challenges"), "sent once")
                assertEquals(SessionState.ACTIVE, session.state())
                assertEquals(200.toUShort(), session.execute(HttpRequest(url = "/api/resource")).status)
            }
        }
    }

    /** Fails when the interceptor refreshes for the 401 (the remembered status rule alone) or sends again. */
    @Test
    fun `the OkHttp interceptor hands a step-up answer over unrefreshed and stepUpChallenge reads it`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                session.signIn(server.login())
                val http = OkHttpClient.Builder().addRefreshKit(session).build()
                fun get(url: String) = http.newCall(Request.Builder().url(url).build()).execute()

                get(server.challengeUrl(401, strongerLogin)).use { response ->
                    assertEquals(401, response.code)
                    assertEquals(
                        StepUpChallenge(StepUpReason.INSUFFICIENT_USER_AUTHENTICATION, "urn:example:mfa", 300UL, null),
                        response.stepUpChallenge(),
                    )
                }
                get(server.challengeUrl(403, moreScope)).use { response ->
                    assertEquals(403, response.code)
                    assertEquals(StepUpChallenge(StepUpReason.INSUFFICIENT_SCOPE, null, null, "orders:write"), response.stepUpChallenge())
                }
                assertEquals(0L, server.stat("refresh_requests"))
                assertEquals(2L, server.stat("step_up_challenges"), "each sent once")
                get("${server.baseUrl}/api/resource").use { assertNull(it.stepUpChallenge()) }
            }
        }
    }

    /** The other side: fails when every challenge keeps the interceptor from refreshing. */
    @Test
    fun `the OkHttp interceptor still refreshes a 401 saying invalid_token and replays`() = runBlocking {
        AuthServer().use { server ->
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                session.signIn(server.login())
                server.expireAll()
                val http = OkHttpClient.Builder().addRefreshKit(session).build()

                http.newCall(Request.Builder().url(server.challengeUrl(401, null)).build()).execute().use {
                    assertEquals(200, it.code)
                }
                assertEquals(1L, server.stat("refresh_requests"))
            }
        }
    }
}
