package dev.refreshkit.android

import android.content.Context
import org.junit.After
import org.junit.Before
import org.robolectric.RuntimeEnvironment

/** A test that drives the app from Robolectric's main looper, over the fake AndroidKeyStore. */
abstract class MainLooperTest {
    protected val context: Context = RuntimeEnvironment.getApplication()
    protected val main = MainLooper()

    @Before fun installKeystore() = FakeAndroidKeyStore.install()

    @After fun tearDown() {
        main.close()
        FakeAndroidKeyStore.uninstall()
    }
}
