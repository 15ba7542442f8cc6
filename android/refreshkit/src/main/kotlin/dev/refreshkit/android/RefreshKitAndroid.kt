package dev.refreshkit.android

import android.content.Context
import dev.refreshkit.ktx.RefreshKitJvm

/**
 * Process-wide set-up on Android. Call [initialize] once, in `Application.onCreate`,
 * before the first `Session` sends a request: it lets the Rust core verify TLS
 * certificates with Android's own trust store (user-installed CAs and network security
 * config included).
 */
object RefreshKitAndroid {
    @Volatile private var initialized = false

    @Synchronized
    fun initialize(context: Context) {
        if (initialized) return
        // The same librefreshkit.so that JNA loads for the bindings.
        System.loadLibrary("refreshkit")
        check(nativeInit(context.applicationContext)) { "refreshkit: certificate verifier set-up failed" }
        RefreshKitJvm.keepCallbackThreadsAttached()
        initialized = true
    }

    @JvmStatic private external fun nativeInit(context: Context): Boolean
}
