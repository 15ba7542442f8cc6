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
            var now = read()
            while (true) {
                // Asked of the core once per new state, not after every call.
                if (now != mutable.value) {
                    // The answer first: whoever sees the new state sees its answer too.
                    needs.value = now.needsSignIn()
                    mutable.value = now
                }
                // A thread that skipped the lock above may have read a newer state before
                // this one was set: read again until it holds still, so the flow never stays
                // on an older state.
                val again = read()
                if (again == now) return
                now = again
            }
        }
    }
}
