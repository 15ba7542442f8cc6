package dev.refreshkit.ktx

import dev.refreshkit.ExpiryReason
import dev.refreshkit.HttpRequest
import dev.refreshkit.HttpResponse
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionEvent
import dev.refreshkit.SessionListener
import dev.refreshkit.SessionMetrics
import dev.refreshkit.SessionState
import dev.refreshkit.TokenStore
import dev.refreshkit.Tokens
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.map

/**
 * A [Session] for coroutine code: its state as a [StateFlow] (for Compose or a
 * ViewModel), its events as a [Flow], and [close] to release the native session.
 *
 * ```
 * val session = ObservableSession(SessionConfig(baseUrl = "https://api.example.com"), store)
 * scope.launch { session.expired.collect { showLogin() } }
 * val me = session.execute(HttpRequest(url = "/me"))
 * ```
 */
class ObservableSession(config: SessionConfig, store: TokenStore) : AutoCloseable {
    init {
        RefreshKitJvm.keepCallbackThreadsAttached()
    }

    private val relay = Relay()

    /** The generated binding, for anything this wrapper does not cover. */
    val session: Session = Session(config, store, relay)

    private val mutableState = MutableStateFlow(session.state())

    /** The session's state, updated after every event and every call. */
    val state: StateFlow<SessionState> = mutableState.asStateFlow()

    /** Every event, in order. Hot: collectors see the events after they subscribe. */
    val events: SharedFlow<SessionEvent> = relay.events.asSharedFlow()

    /** Emits when the session is over and the app should show its login screen. */
    val expired: Flow<ExpiryReason> = events.filterIsInstance<SessionEvent.Expired>().map { it.reason }

    init {
        relay.onEvent = { publishState() }
    }

    suspend fun signIn(tokens: Tokens) = published { session.signIn(tokens) }

    suspend fun signOut() = published { session.signOut() }

    suspend fun execute(request: HttpRequest): HttpResponse = published { session.execute(request) }

    suspend fun accessToken(): String = published { session.accessToken() }

    suspend fun refreshAfterUnauthorized(rejectedAccessToken: String): String =
        published { session.refreshAfterUnauthorized(rejectedAccessToken) }

    fun metrics(): SessionMetrics = session.metrics()

    override fun close() = session.close()

    private fun publishState() {
        mutableState.value = session.state()
    }

    private inline fun <T> published(block: () -> T): T =
        try {
            block()
        } finally {
            publishState()
        }

    /** Receives events on a refreshkit thread; must not block, so it only hands them on. */
    private class Relay : SessionListener {
        val events = MutableSharedFlow<SessionEvent>(
            extraBufferCapacity = 256,
            onBufferOverflow = BufferOverflow.DROP_OLDEST,
        )
        @Volatile var onEvent: () -> Unit = {}

        override fun onEvent(event: SessionEvent) {
            onEvent()
            events.tryEmit(event)
        }
    }
}
