package dev.refreshkit.ktor

import dev.refreshkit.ktx.TokenRuleCache
import io.ktor.client.call.HttpClientCall
import io.ktor.client.call.save
import io.ktor.client.statement.bodyAsBytes
import io.ktor.http.contentLength
import io.ktor.http.contentType
import kotlinx.coroutines.cancel

/** An answer whose body may have been read for a body rule: [call] is the one to hand on. */
internal class Peeked(val call: HttpClientCall, val body: ByteArray?)

/**
 * The body of a small JSON answer, for the session's body rule: read into memory (the
 * app then reads the saved copy) only when its length is known and at most 64 KiB, and
 * its type may be one JSON document. Anything else is not read ([Peeked.body] is null).
 */
internal suspend fun peekJson(call: HttpClientCall): Peeked {
    val response = call.response
    val type = response.contentType()
    if (type != null && !TokenRuleCache.isJsonDocument(type.contentSubtype)) return Peeked(call, null)
    val length = response.contentLength() ?: return Peeked(call, null)
    if (length > TokenRuleCache.MAX_PEEKED_BYTES) return Peeked(call, null)
    val saved = call.save()
    return Peeked(saved, saved.response.bodyAsBytes())
}

/** Lets go of an answer that is not handed on (it is replaced by the replay's). */
internal fun HttpClientCall.discard() {
    response.cancel()
}
