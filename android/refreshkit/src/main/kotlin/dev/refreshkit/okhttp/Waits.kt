package dev.refreshkit.okhttp

import dev.refreshkit.SessionException
import java.io.IOException
import java.io.InterruptedIOException
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.future.future
import okhttp3.Call

/**
 * Where the interceptor's waits run. Not Unconfined: the rest of the call would then run on
 * the refreshkit thread that wakes it, which has other work to do.
 */
private val waits = CoroutineScope(SupervisorJob() + Dispatchers.Default)

/** How often a waiting call looks at `isCanceled()`; `callTimeout` cancels the call too. */
private const val POLL_MS = 20L

/**
 * Runs [block] (a suspend call into the core) and waits for it on this OkHttp thread
 * until it ends or the call is cancelled or timed out. Giving up cancels only this
 * wait: a refresh in flight goes on for the other requests.
 */
internal fun <T> Call.await(block: suspend () -> T): T {
    val result = waits.future { block() }
    while (true) {
        try {
            return result.get(POLL_MS, TimeUnit.MILLISECONDS)
        } catch (e: TimeoutException) {
            if (isCanceled()) {
                result.cancel(true)
                throw IOException("Canceled")
            }
        } catch (e: InterruptedException) {
            result.cancel(true)
            Thread.currentThread().interrupt()
            throw InterruptedIOException("interrupted while waiting for refreshkit")
        } catch (e: ExecutionException) {
            throw asIOException(e.cause ?: e)
        }
    }
}

/** Runs a call into the session; whatever it throws reaches OkHttp as an IOException. */
internal inline fun <T> guarded(call: () -> T): T =
    try {
        call()
    } catch (e: IOException) {
        throw e
    } catch (e: Exception) {
        throw asIOException(e)
    }

/** Failures reach OkHttp as IOExceptions: anything else crashes an asynchronous call's thread. */
internal fun asIOException(e: Throwable): IOException = when (e) {
    is SessionException -> RefreshKitIOException(e)
    is IOException -> e
    // A closed session or a bindings failure.
    else -> IOException("refreshkit: ${e::class.simpleName}", e)
}

/**
 * The session could not provide a token; [reason] says why (for example, expired). The
 * message is the core's text for it, the same words as in Rust and Swift (no token in it).
 */
class RefreshKitIOException(val reason: SessionException) :
    IOException("refreshkit: $reason", reason)
