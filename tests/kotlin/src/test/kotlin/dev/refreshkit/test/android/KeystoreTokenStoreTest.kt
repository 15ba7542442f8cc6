package dev.refreshkit.test.android

import dev.refreshkit.StoreException
import dev.refreshkit.Tokens
import dev.refreshkit.android.KeystoreTokenStore
import java.io.File
import java.time.Instant
import java.util.concurrent.CyclicBarrier
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertThrows
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config

/** KeystoreTokenStore on Robolectric's Android 14, with [FakeAndroidKeyStore] for the Keystore. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34])
class KeystoreTokenStoreTest {
    private val context get() = RuntimeEnvironment.getApplication()

    @Before
    fun keystore() {
        FakeAndroidKeyStore.install()
        context.noBackupFilesDir.deleteRecursively()
    }

    private fun tokens(n: Int) = Tokens(accessToken = "access-$n", refreshToken = "refresh-$n", expiresAt = Instant.ofEpochMilli(1_000L * n))

    @Test
    fun `a save that cannot replace the file throws StoreException instead of reporting success`() {
        // A folder where the file belongs: the rename over it fails.
        File(context.noBackupFilesDir, "refreshkit.tokens").apply { mkdirs() }.resolve("occupied").writeText("x")
        val error = assertThrows(StoreException.Failed::class.java) { KeystoreTokenStore(context).save(tokens(1)) }
        assertEquals("file: IOException", error.detail)
    }

    @Test
    fun `tokens saved by one store are read by another, with every field`() {
        KeystoreTokenStore(context).save(tokens(7))
        assertEquals(tokens(7), KeystoreTokenStore(context).load())
    }

    @Test
    fun `two stores saving at once create one key, and the saved tokens still decrypt`() {
        val stores = List(4) { KeystoreTokenStore(context) }
        val start = CyclicBarrier(stores.size)
        val pool = Executors.newFixedThreadPool(stores.size)
        val saves = stores.mapIndexed { i, store -> pool.submit { start.await(); store.save(tokens(i)) } }
        saves.forEach { it.get(10, TimeUnit.SECONDS) }
        pool.shutdown()

        assertEquals("keys created", 1, FakeAndroidKeyStore.generated.get())
        assertNotNull("the saved tokens no longer decrypt: the user would be signed out", KeystoreTokenStore(context).load())
    }

    @Test
    fun `the key is bound to an unlocked device only when the app asks`() {
        KeystoreTokenStore(context).save(tokens(1))
        assertEquals(false, FakeAndroidKeyStore.lastSpec!!.isUnlockedDeviceRequired)

        FakeAndroidKeyStore.install()
        KeystoreTokenStore(context, keyAlias = "bound", requireUnlockedDevice = true).save(tokens(2))
        assertEquals(true, FakeAndroidKeyStore.lastSpec!!.isUnlockedDeviceRequired)
    }

    @Test
    fun `tokens an earlier version left in AtomicFile's backup after a crash mid-write are read`() {
        KeystoreTokenStore(context).save(tokens(3))
        val file = File(context.noBackupFilesDir, "refreshkit.tokens")
        file.renameTo(File(file.path + ".bak"))
        file.writeBytes(byteArrayOf(1, 2, 3)) // the interrupted write
        assertEquals(tokens(3), KeystoreTokenStore(context).load())
    }
}
