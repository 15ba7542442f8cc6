package dev.refreshkit.okhttp

import dev.refreshkit.AnswerMeaning
import dev.refreshkit.HttpHeader
import dev.refreshkit.SessionInterface
import dev.refreshkit.TokenLease
import dev.refreshkit.ktx.TokenRuleCache
import okhttp3.Call
import okhttp3.HttpUrl
import okhttp3.Request
import okhttp3.Response

/**
 * The session's rules (which URL may receive the token, in which header, which answer
 * means "expired"), asked of the core and remembered, so a request with a valid Bearer
 * token crosses the bindings for none of them. A DPoP-bound token asks the core for each
 * request: its proof is made for one method, URL and moment.
 *
 * The Bearer rules are remembered in a [TokenRuleCache], shared with the Ktor plugin.
 */
internal class TokenRules(private val session: SessionInterface) {
    private val cache = TokenRuleCache(session)

    fun mayReceiveToken(url: HttpUrl): Boolean = cache.mayReceiveToken(url.toString(), url.isHttps, url.host)

    /** The header carrying [token] to [url], or null when [url] may not receive it. */
    fun header(url: HttpUrl, token: String): HttpHeader? =
        if (mayReceiveToken(url)) cache.header(url.toString(), token) else null

    /** Every header carrying [lease]'s token on [request]; none when its URL may not receive it. */
    fun headersFor(call: Call, request: Request, lease: TokenLease): List<HttpHeader> =
        if (lease.needsProof) proofHeaders(call, request, lease.accessToken)
        else listOfNotNull(header(request.url, lease.accessToken))

    /**
     * Every header carrying the DPoP-bound [token] on [request] (the token header and a
     * new `DPoP` proof for its method and URL), or none when its URL may not receive it.
     * The key may take seconds to sign (StrongBox): [call]'s cancellation or
     * `callTimeout` ends the wait, as for a refresh.
     */
    fun proofHeaders(call: Call, request: Request, token: String): List<HttpHeader> {
        if (!mayReceiveToken(request.url)) return emptyList()
        return call.await { session.tokenHeadersFor(request.method, request.url.toString(), token) }
    }

    /**
     * What [response] (to a request that carried the token) means. The core learns a DPoP
     * server's nonce and clock from it, so every such answer is given to it, and tells a
     * step-up challenge from an expired token; the body is read only for a body rule, and
     * only when [readBody].
     */
    fun meaning(response: Response, readBody: Boolean): AnswerMeaning {
        val headers = response.headers.map { (name, value) -> HttpHeader(name, value) }
        val body = if (readBody && cache.readsBody) peekJson(response) else ByteArray(0)
        return session.answerMeans(response.request.url.toString(), response.code.toUShort(), headers, body)
    }

    /** Whether [response] (to a request that carried the token) says the token expired. */
    fun isExpired(response: Response): Boolean =
        cache.isExpired(response.code, if (cache.readsBody) peekJson(response) else null)

    /**
     * The body's first JSON value, left unread for the app: bytes are taken as they
     * arrive and no longer than that value lasts (or 64 KiB), so a stream reaches the app
     * as it comes. Types that are not one JSON document (streams of them such as NDJSON,
     * JSON text sequences, server-sent events, a download) are not read at all.
     */
    private fun peekJson(response: Response): ByteArray {
        val body = response.body ?: return ByteArray(0)
        val type = body.contentType()
        if (type != null && !TokenRuleCache.isJsonDocument(type.subtype)) return ByteArray(0)
        return firstJsonValue(body.source().peek(), TokenRuleCache.MAX_PEEKED_BYTES)
    }
}
