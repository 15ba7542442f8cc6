package dev.refreshkit.android

import android.os.Looper
import java.io.IOException
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.MainScope
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.suspendCancellableCoroutine
import okhttp3.Call
import okhttp3.Callback
import okhttp3.Response
import org.robolectric.Shadows.shadowOf

/**
 * App code on Robolectric's main looper, launched with Dispatchers.Main as an Activity's
 * scope does. In Robolectric's paused mode the test thread is the main thread and posted
 * work runs only when the test idles the looper, so every wait here idles it.
 */
class MainLooper : AutoCloseable {
    val thread: Thread = Looper.getMainLooper().thread
    private val scope = MainScope()

    /** Idles the looper until [done] holds; fails naming [what] after [timeoutMs]. */
    fun awaitUntil(what: String, timeoutMs: Long = 20_000, done: () -> Boolean) {
        val deadline = System.nanoTime() + timeoutMs * 1_000_000
        while (true) {
            shadowOf(Looper.getMainLooper()).idle()
            if (done()) return
            check(System.nanoTime() < deadline) { "never happened within $timeoutMs ms: $what" }
            Thread.sleep(5)
        }
    }

    /** Runs [block] on the main looper, waits for it (bounded) and returns what it returned. */
    fun <T> run(what: String, block: suspend () -> T): T {
        var outcome: Result<T>? = null
        scope.launch {
            outcome = runCatching {
                check(Thread.currentThread() === thread) { "$what did not start on the main looper" }
                block().also { check(Thread.currentThread() === thread) { "$what did not resume on the main looper" } }
            }
        }
        awaitUntil(what) { outcome != null }
        return outcome!!.getOrThrow()
    }

    fun launch(block: suspend CoroutineScope.() -> Unit): Job = scope.launch(block = block)

    override fun close() = scope.cancel()
}

/**
 * The call's status, the way Retrofit's suspend functions call OkHttp: enqueued, with the
 * whole exchange (the body too) on OkHttp's threads; the caller resumes with the result.
 */
suspend fun Call.status(): Int = suspendCancellableCoroutine { continuation ->
    continuation.invokeOnCancellation { cancel() }
    enqueue(object : Callback {
        override fun onFailure(call: Call, e: IOException) = continuation.resumeWithException(e)

        override fun onResponse(call: Call, response: Response) {
            val status = response.use { it.body?.string(); it.code }
            continuation.resume(status)
        }
    })
}
