package dev.refreshkit.ktx

import com.sun.jna.CallbackThreadInitializer
import com.sun.jna.Native
import dev.refreshkit.DpopKey
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionListener
import dev.refreshkit.TokenStore
import dev.refreshkit.uniffiRustFutureContinuationCallbackImpl

/**
 * JVM and Android tuning of the bindings. Every async call (`execute`, `signIn`, ...)
 * ends with the Rust runtime calling back into the JVM through JNA; by default JNA
 * attaches the calling native thread to the JVM and detaches it again for every single
 * callback, which costs more than the HTTP request itself on loopback. Keeping
 * refreshkit's few runtime threads attached (as daemons, detached when they exit)
 * removes that cost.
 *
 * [ObservableSession], [session], `RefreshKitInterceptor` and `RefreshKitAndroid.initialize`
 * do this for you. Build a plain `Session` with [session] rather than its constructor,
 * which knows nothing of it.
 */
object RefreshKitJvm {
    @Volatile private var tuned = false

    /**
     * A plain `Session` (no flows, no [ObservableSession.close] guard) with the callback
     * threads kept attached first: the way to get one outside [ObservableSession]. With
     * [dpopKey], a DPoP session (`Session.withDpop`). Close it when done.
     */
    @JvmStatic
    @JvmOverloads
    fun session(
        config: SessionConfig,
        store: TokenStore,
        listener: SessionListener? = null,
        dpopKey: DpopKey? = null,
    ): Session {
        keepCallbackThreadsAttached()
        return if (dpopKey == null) Session(config, store, listener) else Session.withDpop(config, store, dpopKey, listener)
    }

    /** Keeps refreshkit's runtime threads attached to the JVM; only needed before a `Session(...)` built by hand. */
    @JvmStatic
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
