package dev.refreshkit.test

import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionEvent
import dev.refreshkit.SessionException
import dev.refreshkit.SessionState
import dev.refreshkit.StoreException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The store seam from Kotlin (issue 10, items 1, 3 and 4): a Kotlin store that throws
 * never costs the session, sign-out tells the truth, and building a session never waits
 * for the store. Mirrors ios/Tests/RefreshKitTests/StoreSeamTests.swift and
 * tests/all/store_order.rs.
 */
class StoreSeamTest {
    private val resource get() = HttpRequest(url = "/api/resource")

    @Test
    fun `a failed save never ends the session at the next expiry`() = runBlocking {
        AuthServer().use { server ->
            val store = FlakyStore()
            Session(SessionConfig(baseUrl = server.baseUrl), store).use { session ->
                session.signIn(server.login())
                server.expireAll()
                store.failSave = StoreException.Locked()

                assertEquals(200.toUShort(), session.execute(resource).status, "first expiry: refreshed, but not saved")
                server.expireAll()
                assertEquals(200.toUShort(), session.execute(resource).status, "second expiry: the store's older tokens are not adopted")
                assertEquals(200.toUShort(), session.execute(resource).status)

                assertEquals(SessionState.ACTIVE, session.state())
                assertEquals(0L, server.stat("reuse_detected"), "no refresh token was spent twice")
                assertEquals(2L, server.stat("refreshes"))
            }
        }
    }

    @Test
    fun `sign-out with a throwing clear changes nothing and says so`() = runBlocking {
        AuthServer().use { server ->
            val store = FlakyStore()
            val recorder = Recorder()
            Session(SessionConfig(baseUrl = server.baseUrl), store, recorder).use { session ->
                session.signIn(server.login())
                store.failClear = StoreException.Locked()

                assertThrows<SessionException.Store> { runBlocking { session.signOut() } }

                assertEquals(SessionState.ACTIVE, session.state(), "the sign-out did not happen, and says so")
                assertEquals(200.toUShort(), session.execute(resource).status, "still signed in, as the error said")
                Session(SessionConfig(baseUrl = server.baseUrl), store).use { relaunched ->
                    assertEquals(SessionState.ACTIVE, relaunched.restoredState(), "and still signed in after a relaunch")
                }

                // The real sign-out's event comes after any the failed one could have sent.
                store.failClear = null
                session.signOut()
                val events = recorder.awaitUntil { SessionEvent.SignedOut in it }
                assertEquals(listOf(SessionEvent.SignedIn, SessionEvent.SignedOut), events, "one SignedOut, for the real sign-out")
                assertNull(store.tokens)
            }
        }
    }

    @Test
    fun `building a session never reads the store on the calling thread`() = runBlocking {
        AuthServer().use { server ->
            val store = GatedStore(server.login())
            try {
                // With the read on this thread, the constructor would wait at the closed gate
                // (up to the store timeout) and return with the load done.
                val calling = Thread.currentThread()
                Session(SessionConfig(baseUrl = server.baseUrl), store).use { session ->
                    assertEquals(SessionState.LOADING, session.state())
                    waitUntil("the store's load to wait at the gate") { store.waiting.get() == 1 }
                    assertFalse(calling in store.loadThreads, "the store was read on the thread that built the session")
                    val request = async(Dispatchers.IO) { session.execute(resource).status }
                    store.openLoad()

                    assertEquals(SessionState.ACTIVE, session.restoredState())
                    assertEquals(200.toUShort(), request.await(), "a request made while loading waited for the load")
                }
            } finally {
                store.openLoad()
            }
        }
    }
}
