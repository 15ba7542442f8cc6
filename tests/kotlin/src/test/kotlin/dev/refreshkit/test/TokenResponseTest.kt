package dev.refreshkit.test

import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.Tokens
import dev.refreshkit.ktx.fromTokenResponse
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class TokenResponseTest {
    @Test
    fun `a login answer becomes tokens whose expiry counts from receipt and they sign in`() = runBlocking {
        AuthServer().use { server ->
            val answer = server.loginAnswer()
            val lifetimeMs = Regex(""""expires_in"\s*:\s*(\d+)""").find(answer)!!.groupValues[1].toLong() * 1000
            val before = System.currentTimeMillis()
            val tokens = Tokens.fromTokenResponse(answer)
            val after = System.currentTimeMillis()

            val expiresAt = tokens.expiresAt!!.toEpochMilli()
            assertTrue(expiresAt in before + lifetimeMs - 1..after + lifetimeMs + 1, "expires_in counted from now")
            assertTrue(tokens.refreshToken != null)
            Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                session.signIn(tokens)
                assertEquals(200.toUShort(), session.execute(HttpRequest(url = "/api/resource")).status)
            }
        }
    }

    @Test
    fun `an answer that is not a token response is InvalidResponse and never shows the token`() {
        for (json in listOf("<html>", """{"error":"invalid_grant"}""", """{"access_token":"secret token"}""")) {
            val error = assertThrows<SessionException.InvalidResponse> { Tokens.fromTokenResponse(json) }
            assertFalse("secret" in error.toString(), error.toString())
        }
    }
}
