package dev.refreshkit.ktx

import com.sun.jna.Native
import dev.refreshkit.TokenLease

/**
 * Whether a [TokenLease] may still be sent, in one JNA direct-mapped call with two longs:
 * no structure to build, unlike a call through the generated bindings, so the
 * interceptor can ask before every request.
 */
internal object LeaseCheck {
    /** False if the library could not be bound (say, an older build): every request then asks the session. */
    private val available: Boolean = try {
        Native.register(LeaseCheck::class.java, libraryName())
        true
    } catch (e: Throwable) {
        false
    }

    fun isCurrent(lease: TokenLease): Boolean =
        available && refreshkit_token_lease_is_current(lease.sessionId.toLong(), lease.generation.toLong()) == 1.toByte()

    @JvmStatic
    private external fun refreshkit_token_lease_is_current(sessionId: Long, generation: Long): Byte
}

/** The library the generated bindings load, honouring the same override. */
internal fun libraryName(): String = System.getProperty("uniffi.component.refreshkit.libraryOverride") ?: "refreshkit"
