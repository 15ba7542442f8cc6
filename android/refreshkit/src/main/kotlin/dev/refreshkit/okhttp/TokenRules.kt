package dev.refreshkit.okhttp

import dev.refreshkit.HttpHeader
import dev.refreshkit.SessionInterface
import java.util.concurrent.ConcurrentHashMap
import okhttp3.HttpUrl
import okhttp3.Response

/**
 * The session's rules (which URL may receive the token, in which header, which answer
 * means "expired"), asked of the core and remembered, so a request with a valid token
 * crosses the bindings for none of them.
 *
 * Remembering per scheme and host is safe because that is all the core's decision
 * reads (`tokenHosts`, plain http only to loopback).
 */
internal class TokenRules(private val session: SessionInterface) {
    private val httpsHosts = ConcurrentHashMap<String, Boolean>()
    private val httpHosts = ConcurrentHashMap<String, Boolean>()
    private val expiredStatuses = ConcurrentHashMap<Int, Boolean>()
    private val readsBody: Boolean by lazy { session.expiryReadsBody() }

    /** The header made for the last token seen: the same for every URL allowed to receive it. */
    @Volatile private var lastHeader: Pair<String, HttpHeader?>? = null

    fun mayReceiveToken(url: HttpUrl): Boolean {
        val hosts = if (url.isHttps) httpsHosts else httpHosts
        hosts[url.host]?.let { return it }
        if (hosts.size > MAX_HOSTS) hosts.clear()
        // The core's answer depends on the scheme and host alone, so it is kept per host.
        return session.mayReceiveToken(url.toString()).also { hosts[url.host] = it }
    }

    /** The header carrying [token] to [url], or null when [url] may not receive it. */
    fun header(url: HttpUrl, token: String): HttpHeader? {
        if (!mayReceiveToken(url)) return null
        lastHeader?.let { (seen, header) -> if (seen == token) return header }
        return session.tokenHeaderFor(url.toString(), token).also { lastHeader = token to it }
    }

    /** Whether [response] (to a request that carried the token) says the token expired. */
    fun isExpired(response: Response): Boolean {
        val code = response.code
        if (!readsBody) {
            return expiredStatuses.getOrPut(code) { session.isExpiredResponse(code.toUShort(), ByteArray(0)) }
        }
        return session.isExpiredResponse(code.toUShort(), peekJson(response))
    }

    /**
     * The start of a JSON body, left unread for the app. Other media types are not read:
     * a stream (server-sent events, a download) must not be held up by a peek.
     */
    private fun peekJson(response: Response): ByteArray {
        val type = response.body?.contentType()
        if (type != null && !type.subtype.contains("json", ignoreCase = true)) return ByteArray(0)
        return response.peekBody(MAX_PEEKED_BYTES).bytes()
    }

    private companion object {
        const val MAX_HOSTS = 256
        const val MAX_PEEKED_BYTES = 64L * 1024
    }
}
