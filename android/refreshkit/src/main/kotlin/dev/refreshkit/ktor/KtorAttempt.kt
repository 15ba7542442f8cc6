package dev.refreshkit.ktor

import dev.refreshkit.AnswerMeaning
import dev.refreshkit.HttpHeader
import dev.refreshkit.SessionException
import dev.refreshkit.SessionInterface
import dev.refreshkit.TokenLease
import dev.refreshkit.ktx.LeaseCheck
import dev.refreshkit.ktx.TokenRuleCache
import io.ktor.client.call.HttpClientCall
import io.ktor.client.request.HttpRequestBuilder
import io.ktor.http.HttpHeaders
import io.ktor.util.AttributeKey

internal val RequiresTokenKey = AttributeKey<Unit>("dev.refreshkit.RequiresToken")
internal val AttemptKey = AttributeKey<Attempt>("dev.refreshkit.Attempt")

/** One call's token, and what its hops did with it (a redirect's hop shares it). */
internal class Attempt(@Volatile var token: String, val needsProof: Boolean) {
    /** Whether the last hop carried the token. */
    @Volatile var carried = false

    /** The headers this plugin put on the last hop that carried the token. */
    @Volatile var added: List<HttpHeader> = emptyList()
}

/** The last lease, reused while the core says its token is still the one to send. */
internal class Leases(private val session: SessionInterface) {
    @Volatile private var lease: TokenLease? = null

    /** The lease to send, or null when there is no user and [request] may go without a token. */
    suspend fun current(request: HttpRequestBuilder): TokenLease? {
        lease?.let { if (LeaseCheck.isCurrent(it)) return it }
        return try {
            session.accessTokenLease().also { lease = it }
        } catch (e: SessionException) {
            val noUser = e is SessionException.NotSignedIn || e is SessionException.SessionExpired
            if (noUser && !request.attributes.contains(RequiresTokenKey)) null else throw e
        }
    }
}

/** An answer and what it means; [call] is the one to hand on (its body may have been saved). */
internal class Judged(val call: HttpClientCall, val meaning: AnswerMeaning)

/**
 * What [call]'s answer means, for a call whose last hop carried the token: the core's
 * reading for a DPoP-bound token (it learns the server's nonce and clock from every
 * such answer) and for an answer with a challenge (it may ask for a step-up login, which
 * is no expired token); the remembered rules for any other Bearer answer. The body is
 * read for a body rule only when [replayable].
 */
internal suspend fun judged(
    call: HttpClientCall,
    attempt: Attempt,
    replayable: Boolean,
    session: SessionInterface,
    rules: TokenRuleCache,
): Judged {
    val peeked = if (replayable && rules.readsBody) peekJson(call) else Peeked(call, null)
    val status = call.response.status.value
    val challenged = call.response.headers.contains(HttpHeaders.WWWAuthenticate)
    if (!attempt.needsProof && !challenged) {
        val expired = replayable && rules.isExpired(status, peeked.body)
        return Judged(peeked.call, if (expired) AnswerMeaning.EXPIRED else AnswerMeaning.SERVED)
    }
    val headers = call.response.headers.entries().flatMap { (name, values) -> values.map { HttpHeader(name, it) } }
    val meaning = session.answerMeans(call.request.url.toString(), status.toUShort(), headers, peeked.body ?: ByteArray(0))
    return Judged(peeked.call, meaning)
}
