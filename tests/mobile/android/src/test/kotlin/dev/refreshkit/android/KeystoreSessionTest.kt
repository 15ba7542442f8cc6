package dev.refreshkit.android

import android.content.Context
import android.security.keystore.UserNotAuthenticatedException
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionState
import dev.refreshkit.Tokens
import dev.refreshkit.ktx.ObservableSession
import java.security.InvalidKeyException
import java.time.Instant
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotEquals
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment

/**
 * The Android flavour of the bindings and ObservableSession on Robolectric, with the host
 * build of the library (JNA) and KeystoreTokenStore over [FakeAndroidKeyStore]: what a
 * relaunched app sees. No request is sent; the session only reads and writes its store,
 * on refreshkit's own threads.
 */
@RunWith(RobolectricTestRunner::class)
class KeystoreSessionTest {
    private val context: Context = RuntimeEnvironment.getApplication()
    private val config = SessionConfig(baseUrl = "https://api.example.com")
    private val tokens = Tokens("access-77", "refresh-88", Instant.now().plusSeconds(3600))

    @Before fun installKeystore() = FakeAndroidKeyStore.install()

    @After fun removeKeystore() = FakeAndroidKeyStore.uninstall()

    private fun relaunch(): SessionState = ObservableSession(config, KeystoreTokenStore(context)).use { session ->
        val restored = runBlocking { session.session.restoredState() }
        assertEquals(restored, session.session.state())
        restored
    }

    @Test fun `a signed-in user is still signed in after a relaunch`() {
        ObservableSession(config, KeystoreTokenStore(context)).use { session ->
            runBlocking { session.signIn(tokens) }
            assertEquals(SessionState.ACTIVE, session.state.value)
        }
        assertEquals(SessionState.ACTIVE, relaunch())
    }

    @Test fun `a locked Keystore at relaunch is Locked, not signed out, and the tokens survive`() {
        ObservableSession(config, KeystoreTokenStore(context)).use { runBlocking { it.signIn(tokens) } }
        FakeAndroidKeyStore.failure = { UserNotAuthenticatedException() }
        assertEquals(SessionState.LOCKED, relaunch())
        FakeAndroidKeyStore.failure = null
        assertEquals(SessionState.ACTIVE, relaunch())
    }

    @Test fun `a failing Keystore at relaunch is not signed out, and the tokens survive`() {
        ObservableSession(config, KeystoreTokenStore(context)).use { runBlocking { it.signIn(tokens) } }
        FakeAndroidKeyStore.failure = { InvalidKeyException("Keystore operation failed") }
        assertNotEquals(SessionState.SIGNED_OUT, relaunch())
        FakeAndroidKeyStore.failure = null
        assertEquals(SessionState.ACTIVE, relaunch())
    }
}
