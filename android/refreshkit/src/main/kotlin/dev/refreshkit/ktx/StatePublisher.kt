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

    val state: StateFlow<SessionState> = mutable.asStateFlow()

    fun publish() {
        synchronized(this) { mutable.value = read() }
    }
}
