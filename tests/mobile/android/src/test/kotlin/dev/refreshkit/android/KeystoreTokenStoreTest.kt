package dev.refreshkit.android

import android.content.Context
import android.security.keystore.UserNotAuthenticatedException
import dev.refreshkit.StoreException
import dev.refreshkit.Tokens
import java.io.File
import java.security.InvalidKeyException
import java.time.Instant
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment

/** KeystoreTokenStore on Robolectric's Android 14, with [FakeAndroidKeyStore] as the Keystore. */
@RunWith(RobolectricTestRunner::class)
class KeystoreTokenStoreTest {
    private val context: Context = RuntimeEnvironment.getApplication()
    private val file get() = File(context.noBackupFilesDir, "refreshkit.tokens")
    private val tokens = Tokens(
        "access-4f1c", "refresh-9a2e", Instant.ofEpochMilli(1_900_000_000_123),
        idToken = "id-77d0", scope = "openid api", tokenType = "DPoP",
    )

    @Before fun installKeystore() = FakeAndroidKeyStore.install()

    @After fun removeKeystore() = FakeAndroidKeyStore.uninstall()

    @Test fun `tokens saved by one store are loaded by another with every field and are encrypted at rest`() {
        KeystoreTokenStore(context).save(tokens)
        assertEquals(tokens, KeystoreTokenStore(context).load())
        val onDisk = String(file.readBytes(), Charsets.ISO_8859_1)
        assertFalse(onDisk.contains("access-4f1c") || onDisk.contains("refresh-9a2e") || onDisk.contains("id-77d0"))
    }

    @Test fun `tokens without a refresh token or expiry round trip`() {
        val bare = Tokens("access-only", null, null)
        KeystoreTokenStore(context).save(bare)
        assertEquals(bare, KeystoreTokenStore(context).load())
    }

    @Test fun `nothing saved means signed out`() {
        assertNull(KeystoreTokenStore(context).load())
    }

    @Test fun `a lost key means signed out, the file goes, and the next save works`() {
        KeystoreTokenStore(context).save(tokens)
        FakeAndroidKeyStore.keys.clear() // restored to a new device, or the key was removed
        assertNull(KeystoreTokenStore(context).load())
        assertFalse(file.exists())
        KeystoreTokenStore(context).save(tokens)
        assertEquals(tokens, KeystoreTokenStore(context).load())
    }

    @Test fun `a key invalidated for good is replaced after load discards the tokens, and saves work again`() {
        val store = KeystoreTokenStore(context, requireUnlockedDevice = true)
        store.save(tokens)
        FakeAndroidKeyStore.invalidate("dev.refreshkit.tokens") // the user removed the screen lock
        assertNull(store.load())
        assertFalse(file.exists())
        store.save(tokens)
        assertEquals(tokens, KeystoreTokenStore(context, requireUnlockedDevice = true).load())
    }

    @Test fun `a save with a key invalidated since the last load makes a new key`() {
        val store = KeystoreTokenStore(context, requireUnlockedDevice = true)
        store.save(tokens)
        FakeAndroidKeyStore.invalidate("dev.refreshkit.tokens")
        store.save(tokens)
        assertEquals(tokens, store.load())
    }

    @Test fun `a damaged file means signed out and the file goes`() {
        KeystoreTokenStore(context).save(tokens)
        val bytes = file.readBytes()
        bytes[bytes.size - 5] = (bytes[bytes.size - 5].toInt() xor 0x01).toByte()
        file.writeBytes(bytes)
        assertNull(KeystoreTokenStore(context).load())
        assertFalse(file.exists())
    }

    @Test fun `a file that is not a sealed box means signed out`() {
        KeystoreTokenStore(context).save(tokens)
        for (garbage in listOf(byteArrayOf(), byteArrayOf(12), "{\"access_token\":\"x\"}".toByteArray())) {
            file.writeBytes(garbage)
            assertNull(KeystoreTokenStore(context).load())
            assertFalse(file.exists())
        }
    }

    @Test fun `a locked keystore is a store error, not signed out, and keeps the tokens`() {
        val store = KeystoreTokenStore(context)
        store.save(tokens)
        val before = file.readBytes()
        FakeAndroidKeyStore.failure = { UserNotAuthenticatedException() }
        assertThrows(StoreException.Locked::class.java) { store.load() }
        assertThrows(StoreException.Locked::class.java) { store.save(Tokens("newer", null, null)) }
        assertArrayEquals(before, file.readBytes())
        FakeAndroidKeyStore.failure = null
        assertEquals(tokens, store.load())
    }

    @Test fun `a failing keystore is a store error, not signed out, and keeps the tokens`() {
        val store = KeystoreTokenStore(context)
        store.save(tokens)
        FakeAndroidKeyStore.failure = { InvalidKeyException("Keystore operation failed") }
        val error = assertThrows(StoreException.Failed::class.java) { store.load() }
        assertEquals("keystore: InvalidKeyException", error.detail)
        assertThrows(StoreException.Failed::class.java) { store.save(Tokens("newer", null, null)) }
        assertTrue(file.exists())
        FakeAndroidKeyStore.failure = null
        assertEquals(tokens, store.load())
    }

    @Test fun `clear removes the tokens`() {
        val store = KeystoreTokenStore(context)
        store.save(tokens)
        store.clear()
        assertNull(store.load())
    }
}
