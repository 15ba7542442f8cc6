package dev.refreshkit.ktx

import dev.refreshkit.HttpHeader
import dev.refreshkit.SessionInterface
import java.util.concurrent.ConcurrentHashMap

/**
 * The session's Bearer rules (which URL may receive the token, in which header, which
 * status means "expired"), asked of the core and remembered, so a request with a valid
 * token crosses the bindings for none of them. Shared by the OkHttp interceptor and the
 * Ktor plugin; each client's layer adds what depends on its own request and response types.
 *
 * Remembering per scheme and host is safe because that is all the core's decision
 * reads (`tokenHosts`, plain http only to loopback).
 */
internal class TokenRuleCache(private val session: SessionInterface) {
    private val httpsHosts = ConcurrentHashMap<String, Boolean>()
    private val httpHosts = ConcurrentHashMap<String, Boolean>()
    private val expiredStatuses = ConcurrentHashMap<Int, Boolean>()

    /** Whether the session has a body rule, so an answer's body may mean "expired". */
    val readsBody: Boolean by lazy { session.expiryReadsBody() }

    /** The header made for the last token seen: the same for every URL allowed to receive it. */
    @Volatile private var lastHeader: Pair<String, HttpHeader?>? = null

    /** Whether [url] (with its [https] scheme and [host], as the client parsed them) may receive the token. */
    fun mayReceiveToken(url: String, https: Boolean, host: String): Boolean {
        val hosts = if (https) httpsHosts else httpHosts
        hosts[host]?.let { return it }
        if (hosts.size > MAX_HOSTS) hosts.clear()
        // The core's answer depends on the scheme and host alone, so it is kept per host.
        return session.mayReceiveToken(url).also { hosts[host] = it }
    }

    /** The header carrying [token] to [url], once [mayReceiveToken] said yes. */
    fun header(url: String, token: String): HttpHeader? {
        lastHeader?.let { (seen, header) -> if (seen == token) return header }
        return session.tokenHeaderFor(url, token).also { lastHeader = token to it }
    }

    /** Whether an answer with [status] and (for a body rule) [body] says the token expired. */
    fun isExpired(status: Int, body: ByteArray?): Boolean {
        if (!readsBody || body == null) {
            return expiredStatuses.getOrPut(status) { session.isExpiredResponse(status.toUShort(), ByteArray(0)) }
        }
        return session.isExpiredResponse(status.toUShort(), body)
    }

    companion object {
        private const val MAX_HOSTS = 256

        /** The most of a body read for a body rule. */
        const val MAX_PEEKED_BYTES = 64L * 1024

        /** `json`, `problem+json`...; not the streaming kinds (`x-ndjson`, `json-seq`, `stream+json`, `jsonl`). */
        fun isJsonDocument(subtype: String): Boolean {
            val s = subtype.lowercase()
            return (s == "json" || s.endsWith("+json")) && !s.startsWith("stream+") && !s.contains("ndjson")
        }
    }
}
