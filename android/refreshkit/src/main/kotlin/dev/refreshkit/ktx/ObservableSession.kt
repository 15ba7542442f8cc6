package dev.refreshkit.ktx

import dev.refreshkit.DpopKey
import dev.refreshkit.ExpiryReason
import dev.refreshkit.HttpRequest
import dev.refreshkit.HttpResponse
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionEvent
import dev.refreshkit.SessionException
import dev.refreshkit.SessionListener
import dev.refreshkit.SessionMetrics
import dev.refreshkit.SessionState
import dev.refreshkit.TokenStore
import dev.refreshkit.Tokens
import java.util.concurrent.CompletableFuture
import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineExceptionHandler
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.launch
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.future.future

/**
 * The session to start with, on Android and on the JVM: a [Session] for coroutine code,
 * its state as a [StateFlow] (for Compose or a ViewModel), its events as a [Flow], and
 * [close] to release the native session. It sets up the bindings' threads itself (see
 * [RefreshKitJvm]); code that wants the plain generated `Session` gets one from
 * [RefreshKitJvm.session], which does the same.
 *
 * ```
 * val session = ObservableSession(SessionConfig(baseUrl = "https://api.example.com"), store)
 * if (session.restoredState().needsSignIn()) showLogin()   // LOCKED is not signed out
 * scope.launch { session.expired.collect { showLogin() } }
 * val me = session.execute(HttpRequest(url = "/me"))
 * ```
 *
 * [close] may come while calls are in flight (a ViewModel's `onCleared()`): each of them
 * ends with its answer or its error as if nothing had happened (the core keeps what they
 * need until the last one ends), and calls made after it fail with `SessionException.Cancelled`.
 */
class ObservableSession @JvmOverloads constructor(
    config: SessionConfig,
    store: TokenStore,
    dpopKey: DpopKey? = null,
) : AutoCloseable {

    private val relay = Relay()

    /** Set by [close]: from then on the state is no longer read and calls fail typed. */
    private val closed = AtomicBoolean(false)

    /**
     * The generated binding, for anything this wrapper does not cover. With [dpopKey], a
     * DPoP session (`Session.withDpop`): tokens whose type is DPoP carry proofs signed by
     * the key; get the login call's proof from [dpopProof].
     */
    val session: Session = RefreshKitJvm.session(config, store, relay, dpopKey)

    /** [execute] and the state without JNA structures. */
    private val encoded = EncodedCalls(session)

    private val publisher = StatePublisher { encoded.state() ?: session.state() }

    /**
     * Runs the wait for the first store read. A publish that races [close] finds the
     * session gone: nothing to publish then, so the error is dropped, not thrown at the app.
     */
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineExceptionHandler { _, _ -> })

    /** Runs the Java futures; not [scope], so a call in flight at [close] still ends with its answer. */
    private val javaCalls = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    /**
     * The session's state, updated after every event and every call. It starts as
     * `LOADING` while the store is read, and moves on when the read is done. Whether to
     * show the login screen is `state.value.needsSignIn()`: true for `SIGNED_OUT` and
     * `EXPIRED` only (a `LOCKED` Keystore is not signed out).
     */
    val state: StateFlow<SessionState> = publisher.state

    /**
     * Whether to show the login screen, as a [StateFlow] for Compose or a ViewModel: true
     * for `SIGNED_OUT` and `EXPIRED`, false while `LOADING`, `LOCKED` (the Keystore is not
     * readable yet: the user is still signed in), `ACTIVE` and `REFRESHING`.
     */
    val needsSignIn: StateFlow<Boolean> = publisher.needsSignIn

    /** Every event, in order. Hot: collectors see the events after they subscribe. */
    val events: SharedFlow<SessionEvent> = relay.events.asSharedFlow()

    /** Emits when the session is over and the app should show its login screen. */
    val expired: Flow<ExpiryReason> = events.filterIsInstance<SessionEvent.Expired>().map { it.reason }

    init {
        relay.onEvent = { publish() }
        scope.launch {
            try {
                session.restoredState()
            } catch (e: SessionException) {
                // The state says what went wrong.
            }
            publish()
        }
    }

    /**
     * Waits for the first store read and returns the state then (`ACTIVE` for a returning
     * user, `LOCKED` while the Keystore cannot be read). Ask `needsSignIn()` of it before
     * showing a login screen, rather than comparing with `ACTIVE`.
     */
    suspend fun restoredState(): SessionState = published { session.restoredState() }

    suspend fun signIn(tokens: Tokens) = published { session.signIn(tokens) }

    suspend fun signOut() = published { session.signOut() }

    /**
     * Sends [request] with the access token and, on expiry, refreshes once and replays it
     * (as `Session.execute` does). Suspends without holding a thread, and crosses into the
     * library once each way without the JNA structures of the generated call
     * (BENCHMARKS.md §3). Cancelling the coroutine cancels this request.
     */
    suspend fun execute(request: HttpRequest): HttpResponse =
        published { encoded.execute(request) }

    suspend fun accessToken(): String = published { session.accessToken() }

    suspend fun refreshAfterUnauthorized(rejectedAccessToken: String): String =
        published { session.refreshAfterUnauthorized(rejectedAccessToken) }

    /**
     * The `DPoP` header for the app's own token request to [url] (the login call), signed
     * by the session's key; pass the server's `DPoP-Nonce` as [nonce] after it answered
     * `use_dpop_nonce`. Needs a session built with a `dpopKey`.
     */
    suspend fun dpopProof(method: String, url: String, nonce: String? = null): String =
        open { session.dpopProof(method, url, nonce) }

    /** [execute] for threads that may block (an executor, `Dispatchers.IO`; never the main thread). */
    fun executeBlocking(request: HttpRequest): HttpResponse =
        published { encoded.executeBlocking(request) }

    fun metrics(): SessionMetrics = open { session.metrics() }

    // For Java, which cannot call suspend functions: each runs the call above and
    // completes the future with its result or its error; cancelling the future gives up
    // the wait (a refresh under way goes on for the other calls).

    /** [restoredState] for Java. */
    fun restoredStateAsync(): CompletableFuture<SessionState> = javaCalls.future { restoredState() }

    /** [signIn] for Java. */
    fun signInAsync(tokens: Tokens): CompletableFuture<Void?> = javaCalls.future { signIn(tokens); null }

    /** [signOut] for Java. */
    fun signOutAsync(): CompletableFuture<Void?> = javaCalls.future { signOut(); null }

    /** [execute] for Java. */
    fun executeAsync(request: HttpRequest): CompletableFuture<HttpResponse> = javaCalls.future { execute(request) }

    /**
     * Releases the native session once the calls in flight have ended; they get their
     * answers. Safe from any thread, while calls run, and more than once.
     */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        scope.cancel()
        session.close()
    }

    private inline fun <T> published(block: () -> T): T =
        try {
            open(block)
        } finally {
            publish()
        }

    /**
     * Runs [block] on the open session. The bindings throw IllegalStateException for a
     * call on a closed one: a call that starts after [close] (or races it) gets the typed
     * `Cancelled` instead, which the app already handles.
     */
    private inline fun <T> open(block: () -> T): T {
        if (closed.get()) throw SessionException.Cancelled()
        return try {
            block()
        } catch (e: CancellationException) {
            throw e // an IllegalStateException too, but the caller's own cancellation
        } catch (e: IllegalStateException) {
            if (closed.get()) throw SessionException.Cancelled() else throw e
        }
    }

    /**
     * Publishes the state, unless the session is closed: a call that ends after [close]
     * (in its `finally`, or the event of a refresh it ran) must not throw from cleanup.
     */
    private fun publish() {
        if (closed.get()) return
        try {
            publisher.publish()
        } catch (e: IllegalStateException) {
            if (!closed.get()) throw e
        }
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
