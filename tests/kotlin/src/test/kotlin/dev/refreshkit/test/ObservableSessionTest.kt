package dev.refreshkit.test

import dev.refreshkit.ExpiryReason
import dev.refreshkit.HttpRequest
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.SessionState
import dev.refreshkit.ktx.ObservableSession
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class ObservableSessionTest {
    @Test
    fun `state is a StateFlow and expiry arrives on the expired flow`() = runBlocking {
        AuthServer().use { server ->
            ObservableSession(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
                assertEquals(SessionState.SIGNED_OUT, session.state.value)
                session.signIn(server.login())
                assertEquals(SessionState.ACTIVE, session.state.value)

                val expired = async(Dispatchers.IO, start = CoroutineStart.UNDISPATCHED) { session.expired.first() }
                server.expireAll()
                server.fault("""{"kind": "invalid_grant"}""")
                assertThrows<SessionException.SessionExpired> {
                    runBlocking { session.execute(HttpRequest(url = "/api/resource")) }
                }

                assertEquals(ExpiryReason.REFRESH_REJECTED, withTimeout(10_000) { expired.await() })
                assertEquals(SessionState.EXPIRED, session.state.value)
                session.signOut()
                assertEquals(SessionState.SIGNED_OUT, session.state.first { it == SessionState.SIGNED_OUT })
            }
        }
    }
}
