package dev.refreshkit.ktx

import dev.refreshkit.SessionState
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/**
 * Publishes the session's state from any thread. Reading and publishing happen under one
 * lock: otherwise a thread that read an older state could publish it after another thread
 * published a newer one, and the flow would stay on the older state.
 */
internal class StatePublisher(private val read: () -> SessionState) {
    private val mutable = MutableStateFlow(read())
    private val needs = MutableStateFlow(mutable.value.needsSignIn())

    val state: StateFlow<SessionState> = mutable.asStateFlow()

    /** `state.needsSignIn()`, published with the state, so the two never disagree for long. */
    val needsSignIn: StateFlow<Boolean> = needs.asStateFlow()

    fun publish() {
        // Most calls change nothing: they skip the lock, which 64 threads would queue on.
        if (read() == mutable.value) return
        synchronized(this) {
            val now = read()
            // Asked of the core once per new state, not after every call: each ask is a
            // call across the bindings (the profile of issue 24 item 12 found two per execute).
            if (now == mutable.value) return
            // The answer first: whoever sees the new state sees its answer too.
            needs.value = now.needsSignIn()
            mutable.value = now
        }
    }
}
