package dev.refreshkit.test

import dev.refreshkit.ExpiryReason
import dev.refreshkit.HttpRequest
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.SessionState
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.ktx.StatePublisher
import java.util.concurrent.atomic.AtomicReference
import kotlin.concurrent.thread
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
                assertEquals(SessionState.SIGNED_OUT, withTimeout(30_000) { session.state.first { it != SessionState.LOADING } })
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

    @Test
    fun `a publish that read an older state never lands after a newer one`() {
        val truth = AtomicReference(SessionState.ACTIVE)
        var older: Thread? = null
        lateinit var publisher: StatePublisher
        publisher = StatePublisher {
            val seen = truth.get()
            if (Thread.currentThread() == older) {
                truth.set(SessionState.EXPIRED) // the session moves on while this thread is slow
                // Lets a rival publish the newer state first, if the lock allows it.
                val deadline = System.nanoTime() + 300_000_000
                while (publisher.state.value != SessionState.EXPIRED && System.nanoTime() < deadline) Thread.sleep(1)
            }
            seen
        }
        older = thread(start = false) { publisher.publish() }
        older.start()
        waitUntil("the older read has begun") { truth.get() == SessionState.EXPIRED }
        val newer = thread { publisher.publish() }
        older.join(5_000)
        newer.join(5_000)
        assertEquals(SessionState.EXPIRED, publisher.state.value)
    }

    @Test
    fun `needsSignIn is true only when nobody is signed in and a locked store keeps the user`() = runBlocking {
        AuthServer().use { server ->
            val store = FlakyStore(server.login()).apply { failLoad = FlakyStore.locked() }
            ObservableSession(SessionConfig(baseUrl = server.baseUrl), store).use { session ->
                assertEquals(SessionState.LOCKED, withTimeout(10_000) { session.state.first { it != SessionState.LOADING } })
                assertEquals(false, session.needsSignIn.value, "a locked store is not signed out")

                store.failLoad = null
                session.signOut()
                assertEquals(SessionState.SIGNED_OUT, session.state.value)
                assertEquals(true, session.needsSignIn.value, "nobody signed in")

                session.signIn(server.login())
                assertEquals(false, session.needsSignIn.value, "signed in")
            }
        }
    }

    @Test
    fun `state moves on from LOADING to ACTIVE for a user who signed in before`() = runBlocking {
        AuthServer().use { server ->
            ObservableSession(SessionConfig(baseUrl = server.baseUrl), FlakyStore(server.login())).use { session ->
                assertEquals(SessionState.ACTIVE, withTimeout(10_000) { session.state.first { it == SessionState.ACTIVE } })
                assertEquals(SessionState.ACTIVE, session.restoredState())
            }
        }
    }
}
