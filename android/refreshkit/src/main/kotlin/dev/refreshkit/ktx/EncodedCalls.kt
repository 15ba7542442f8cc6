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
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.InternalCoroutinesApi
import kotlinx.coroutines.Job
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.withContext

/**
 * [ObservableSession]'s `execute` and state reads without JNA structures (src/api/encoded_call.rs):
 * the generated `execute` builds about ten structures per call, which from 64 threads
 * cost a third of OkHttp's throughput (BENCHMARKS.md §3). Here the request and the answer
 * cross as one byte array each, in UniFFI's own encoding, read and written by the
 * generated converters, so the records and the typed errors are the generated ones.
 */
internal class EncodedCalls(session: Session) {
    private val sessionId: Long = session.encodedCallsId().toLong()

    /** `execute`, waiting on a thread that may block; cancelling the coroutine cancels this request. */
    @OptIn(InternalCoroutinesApi::class)
    suspend fun execute(request: HttpRequest): HttpResponse {
        val bytes = encode(request)
        return withContext(Dispatchers.IO) {
            val call = Lib.refreshkit_call_begin()
            // Runs at once if already cancelled; the core keeps the cancel for the call.
            val cancel = coroutineContext[Job]?.invokeOnCompletion(onCancelling = true, invokeImmediately = true) {
                Lib.refreshkit_call_cancel(call)
            }
            try {
                answer(Lib.refreshkit_execute_encoded(sessionId, call, bytes, bytes.size))
            } catch (e: dev.refreshkit.SessionException.Cancelled) {
                coroutineContext.ensureActive() // the caller's cancellation, as the generated execute reports it
                throw e
            } finally {
                cancel?.dispose()
            }
        }
    }

    /** `executeBlocking`: the calling thread waits. */
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
        // The same library the generated bindings load, honouring the same override. No
        // fallback: a library without these functions is not the one the bindings match.
        Native.register(Lib::class.java, System.getProperty("uniffi.component.refreshkit.libraryOverride") ?: "refreshkit")
    }

    @JvmStatic external fun refreshkit_call_begin(): Long
    @JvmStatic external fun refreshkit_call_cancel(call: Long)
    @JvmStatic external fun refreshkit_execute_encoded(sessionId: Long, call: Long, request: ByteArray, len: Int): Long
    @JvmStatic external fun refreshkit_session_state(sessionId: Long): Int
    @JvmStatic external fun refreshkit_encoded_free(buffer: Long)
}
