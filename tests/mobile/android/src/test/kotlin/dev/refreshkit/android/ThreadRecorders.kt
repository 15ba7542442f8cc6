package dev.refreshkit.android

import dev.refreshkit.RefreshLock
import dev.refreshkit.TokenStore
import dev.refreshkit.Tokens
import java.net.InetSocketAddress
import java.net.Proxy
import java.util.concurrent.CopyOnWriteArrayList
import okhttp3.Call
import okhttp3.EventListener

/** One call seen, and the thread it ran on. */
data class OnThread(val what: String, val thread: Thread)

/** A [TokenStore] that records the thread of every call, then hands the call to [inner]. */
class ThreadRecordingStore(private val inner: TokenStore) : TokenStore {
    val calls = CopyOnWriteArrayList<OnThread>()

    private fun record(what: String) = calls.add(OnThread(what, Thread.currentThread()))

    override fun load(): Tokens? = record("load").let { inner.load() }

    override fun save(tokens: Tokens) = record("save").let { inner.save(tokens) }

    override fun clear() = record("clear").let { inner.clear() }

    override fun refreshLock(): RefreshLock? = record("refreshLock").let { inner.refreshLock() }
}

/**
 * Records the thread of OkHttp's network work: connecting, sending a request, reading an
 * answer. Not `callStart`: `enqueue` reports it on the caller's thread by design, and
 * does no I/O there.
 */
class NetworkThreadListener : EventListener() {
    val events = CopyOnWriteArrayList<OnThread>()

    private fun record(what: String) {
        events.add(OnThread(what, Thread.currentThread()))
    }

    override fun connectStart(call: Call, inetSocketAddress: InetSocketAddress, proxy: Proxy) = record("connectStart")

    override fun requestHeadersStart(call: Call) = record("requestHeadersStart")

    override fun responseBodyStart(call: Call) = record("responseBodyStart")
}
