package dev.refreshkit.ktx

import com.sun.jna.Native
import com.sun.jna.Pointer
import dev.refreshkit.FfiConverterTypeHttpRequest
import dev.refreshkit.FfiConverterTypeHttpResponse
import dev.refreshkit.FfiConverterTypeSessionError
import dev.refreshkit.FfiConverterTypeSessionState
import dev.refreshkit.HttpRequest
import dev.refreshkit.HttpResponse
import dev.refreshkit.Session
import dev.refreshkit.SessionState
import java.nio.ByteBuffer
import java.util.concurrent.ConcurrentHashMap
import kotlin.concurrent.thread
import kotlin.coroutines.ContinuationInterceptor
import kotlinx.coroutines.CancellableContinuation
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.suspendCancellableCoroutine

/**
 * [ObservableSession]'s `execute` and state reads without JNA structures (src/api/encoded_call.rs):
 * the generated `execute` builds about ten structures per call, which from 64 threads
 * cost a third of OkHttp's throughput (BENCHMARKS.md §3). Here the request and the answer
 * cross as one byte array each, in UniFFI's own encoding, read and written by the
 * generated converters, so the records and the typed errors are the generated ones.
 * [execute] holds no thread while the core works; [executeBlocking] waits on its own.
 */
internal class EncodedCalls(session: Session) {
    private val sessionId: Long = session.encodedCallsId().toLong()

    /**
     * `execute`, suspended without holding a thread: the core runs the call and queues its
     * answer, which [Completions] hands back. Cancelling the coroutine cancels the request.
     */
    suspend fun execute(request: HttpRequest): HttpResponse {
        val bytes = encode(request)
        val queue = Completions.queue // first: its thread is running before any call begins
        val address = suspendCancellableCoroutine { continuation ->
            val call = Lib.refreshkit_call_begin()
            Completions.expect(call, continuation)
            // Runs at once if already cancelled: the core keeps the cancel and never sends.
            continuation.invokeOnCancellation { Lib.refreshkit_call_cancel(call) }
            Completions.start(call) { Lib.refreshkit_execute_start(queue, sessionId, call, bytes, bytes.size) }
        }
        return answer(address)
    }

    /** `executeBlocking`: the calling thread waits, within the request timeout. */
    fun executeBlocking(request: HttpRequest): HttpResponse {
        val bytes = encode(request)
        return answer(Lib.refreshkit_execute_encoded(sessionId, Lib.refreshkit_call_begin(), bytes, bytes.size))
    }

    /** The session's state, or null once the session is gone. */
    fun state(): SessionState? = Lib.refreshkit_session_state(sessionId).takeIf { it != 0 }?.let { number ->
        FfiConverterTypeSessionState.read(ByteBuffer.allocate(4).putInt(number).flip() as ByteBuffer)
    }

    private fun encode(request: HttpRequest): ByteArray {
        val buffer = ByteBuffer.allocate(FfiConverterTypeHttpRequest.allocationSize(request).toInt())
        FfiConverterTypeHttpRequest.write(request, buffer)
        return if (buffer.position() == buffer.capacity()) buffer.array() else buffer.array().copyOf(buffer.position())
    }

    private fun answer(address: Long): HttpResponse {
        val pointer = Pointer(address)
        val bytes = try {
            pointer.getByteArray(4, pointer.getInt(0))
        } finally {
            Lib.refreshkit_encoded_free(address)
        }
        val buffer = ByteBuffer.wrap(bytes)
        return if (buffer.get() == 0.toByte()) FfiConverterTypeHttpResponse.read(buffer) else throw FfiConverterTypeSessionError.read(buffer)
    }
}

/** The C functions, bound by JNA's direct mapping: integers and a byte array, no structures. */
private object Lib {
    init {
        // No fallback: a library without these functions is not the one the bindings match.
        Native.register(Lib::class.java, libraryName())
    }

    @JvmStatic external fun refreshkit_call_begin(): Long
    @JvmStatic external fun refreshkit_call_cancel(call: Long)
    @JvmStatic external fun refreshkit_execute_encoded(sessionId: Long, call: Long, request: ByteArray, len: Int): Long
    @JvmStatic external fun refreshkit_completions_open(): Long
    @JvmStatic external fun refreshkit_execute_start(queue: Long, sessionId: Long, call: Long, request: ByteArray, len: Int)
    @JvmStatic external fun refreshkit_completions_wait(queue: Long, out: LongArray, capacity: Int): Int
    @JvmStatic external fun refreshkit_session_state(sessionId: Long): Int
    @JvmStatic external fun refreshkit_encoded_free(buffer: Long)
}

/**
 * The one thread that takes the core's answers to this class loader's started calls (its
 * own queue, `refreshkit_completions_wait`) and resumes their callers: under load one
 * wake-up brings many answers. Waits in the core without waking while no call runs. A
 * daemon: it never keeps the process alive.
 */
private object Completions {
    private const val BATCH = 256
    private val waiting = ConcurrentHashMap<Long, CancellableContinuation<Long>>()
    val queue: Long = Lib.refreshkit_completions_open()

    init {
        thread(isDaemon = true, name = "refreshkit-completions") {
            val answers = LongArray(2 * BATCH)
            while (true) {
                // Nothing may end this loop: every caller's answer comes through it.
                runCatching {
                    val count = Lib.refreshkit_completions_wait(queue, answers, BATCH)
                    for (i in 0 until count) runCatching { hand(answers[2 * i], answers[2 * i + 1]) }
                }
            }
        }
    }

    /** Registers [continuation] before call [call] starts: its answer may come at once. */
    fun expect(call: Long, continuation: CancellableContinuation<Long>) {
        waiting[call] = continuation
    }

    /** Runs [start]; if it throws, nobody waits for the call's answer any more. */
    inline fun start(call: Long, start: () -> Unit) {
        try {
            start()
        } catch (e: Throwable) {
            waiting.remove(call)
            throw e
        }
    }

    /**
     * The answer's buffer goes to its caller, or back to the core if nobody takes it. A
     * caller whose dispatcher would run it right here (`Dispatchers.Unconfined`) is resumed
     * on `Dispatchers.Default` instead: its code must not hold up everyone's answers.
     */
    private fun hand(call: Long, address: Long) {
        val continuation = waiting.remove(call)
        if (continuation == null) {
            Lib.refreshkit_encoded_free(address)
            return
        }
        val resume = Runnable { continuation.resume(address) { _, buffer, _ -> Lib.refreshkit_encoded_free(buffer) } }
        val dispatcher = continuation.context[ContinuationInterceptor] as? CoroutineDispatcher
        if (dispatcher != null && dispatcher.isDispatchNeeded(continuation.context)) resume.run()
        else Dispatchers.Default.dispatch(continuation.context, resume)
    }
}
