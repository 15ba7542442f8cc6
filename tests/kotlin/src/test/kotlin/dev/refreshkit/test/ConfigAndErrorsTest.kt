package dev.refreshkit.test

import dev.refreshkit.ExpiryReason
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.defaultSessionConfig
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * One set of rules, owned by the core (issue 13): the generated config defaults are Rust's,
 * and an error reads and decides "retry?" as the core does. Mirrors
 * ios/Tests/RefreshKitTests/ConfigDefaultsTests.swift and ErrorTextTests.swift.
 */
class ConfigAndErrorsTest {
    @Test
    fun `the generated SessionConfig defaults are the core's defaults`() {
        assertEquals(defaultSessionConfig("https://api.example.com"), SessionConfig(baseUrl = "https://api.example.com"))
    }

    @Test
    fun `SessionException toString is the core's Display text`() {
        assertEquals("network error: connection refused", SessionException.Network("connection refused").toString())
        assertEquals("session expired: the refresh token was rejected",
            SessionException.SessionExpired(ExpiryReason.REFRESH_REJECTED).toString())
        assertEquals("the response is larger than 10 bytes", SessionException.ResponseTooLarge(10uL).toString())
    }

    @Test
    fun `SessionException message is the core's Display text too`() {
        assertEquals("not signed in", SessionException.NotSignedIn().message)
        assertEquals("network error: connection refused", SessionException.Network("connection refused").message)
        assertEquals("session expired: the refresh token was rejected",
            SessionException.SessionExpired(ExpiryReason.REFRESH_REJECTED).message)
    }

    @Test
    fun `an error thrown by the core reads as a sentence`() {
        val error = assertThrows<SessionException.InvalidConfig> { Session(SessionConfig(baseUrl = "http://api.example.com"), FlakyStore()) }
        assertTrue(error.toString().startsWith("invalid configuration: "), error.toString())
    }

    @Test
    fun `isRetryable is the core's decision`() {
        assertTrue(SessionException.Network("connection refused").isRetryable())
        assertTrue(SessionException.Timeout().isRetryable())
        assertFalse(SessionException.SessionExpired(ExpiryReason.REFRESH_REJECTED).isRetryable())
        assertFalse(SessionException.NotSignedIn().isRetryable())
        assertFalse(SessionException.ClientRejected("invalid_client").isRetryable())
        assertFalse(SessionException.SessionChanged().isRetryable())
    }
}
