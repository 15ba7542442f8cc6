package dev.refreshkit.ktx

import com.sun.jna.CallbackThreadInitializer
import com.sun.jna.Native
import dev.refreshkit.uniffiRustFutureContinuationCallbackImpl

/**
 * JVM and Android tuning of the bindings. Every async call (`execute`, `signIn`, ...)
 * ends with the Rust runtime calling back into the JVM through JNA; by default JNA
 * attaches the calling native thread to the JVM and detaches it again for every single
 * callback, which costs more than the HTTP request itself on loopback. Keeping
 * refreshkit's few runtime threads attached (as daemons, detached when they exit)
 * removes that cost.
 *
 * [ObservableSession], `RefreshKitInterceptor` and `RefreshKitAndroid.initialize` call
 * this; call it once yourself if you use the generated `Session` directly.
 */
object RefreshKitJvm {
    @Volatile private var tuned = false

    @Synchronized
    fun keepCallbackThreadsAttached() {
        if (tuned) return
        Native.setCallbackThreadInitializer(
            uniffiRustFutureContinuationCallbackImpl,
            CallbackThreadInitializer(true, false, "refreshkit-callback"),
        )
        tuned = true
    }
}
