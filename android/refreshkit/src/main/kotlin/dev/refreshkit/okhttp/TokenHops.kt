package dev.refreshkit.okhttp

import dev.refreshkit.HttpHeader
import dev.refreshkit.TokenLease
import java.io.IOException
import okhttp3.Headers
import okhttp3.Interceptor
import okhttp3.Request
import okhttp3.Response

/** What the hops of one attempt did; the last hop's answer is the call's answer. */
internal class Hops(val lease: TokenLease) {
    @Volatile var seen = false

    /** Whether the last hop carried the token. */
    @Volatile var carried = false

    /** The headers this layer put on the last hop that carried the token. */
    @Volatile var added: List<HttpHeader> = emptyList()

    /** The server's `Vary` headers on the last hop's answer, when they named a token header. */
    @Volatile var serverVary: List<String>? = null
    lateinit var response: Response

    /** [response] with the server's `Vary` again, for the app (the cache saw `Vary: *`). */
    fun withServerVary(response: Response): Response {
        val vary = serverVary ?: return response
        if (response.headers("Vary") != listOf("*")) return response
        return response.newBuilder().removeHeader("Vary").apply { vary.forEach { addHeader("Vary", it) } }.build()
    }
}

/**
 * [RefreshKitInterceptor.network]: puts the token on each hop whose URL may receive it.
 * A Bearer token gets the header remembered for it, with no call into the core; a
 * DPoP-bound token gets the core's headers with a new proof for this hop's own method
 * and URL (a redirect may turn a POST into a GET).
 */
internal class TokenHops(private val rules: TokenRules) : Interceptor {
    override fun intercept(chain: Interceptor.Chain): Response {
        val request = chain.request()
        val hops = request.tag(Hops::class.java) ?: return chain.proceed(request)
        hops.seen = true
        val lease = hops.lease
        val headers = guarded { rules.headersFor(chain.call(), request, lease) }
        hops.carried = headers.isNotEmpty()
        hops.serverVary = null
        if (headers.isEmpty()) return chain.proceed(without(request, hops.added))
        hops.added = headers
        val response = keptFromCache(chain.proceed(request.newBuilder().apply { headers.forEach { header(it.name, it.value) } }.build()), hops)
        // A redirect's answer may teach a DPoP nonce or clock too; the call's last
        // answer is judged by the application part.
        if (lease.needsProof && response.isRedirect) {
            try {
                guarded { rules.meaning(response, readBody = false) }
            } catch (e: IOException) {
                response.close()
                throw e
            }
        }
        return response
    }

    /**
     * An answer that varies on a header this layer added reaches OkHttp's `Cache` (above
     * this part) as `Vary: *`, which it never stores: storing it would write the request's
     * value of that header, the token, to the cache directory. (Stored without the token,
     * it would match requests of any user or of none.) The application part gives the
     * app the server's `Vary` back.
     */
    private fun keptFromCache(response: Response, hops: Hops): Response {
        val vary = response.headers("Vary")
        val ours = vary.any { value ->
            value.split(',').any { name -> hops.added.any { it.name.equals(name.trim(), ignoreCase = true) } }
        }
        if (!ours) return response
        hops.serverVary = vary
        return response.newBuilder().removeHeader("Vary").header("Vary", "*").build()
    }

    /**
     * [request] without the headers this layer added to an earlier hop, for a hop that may
     * not receive the token. OkHttp builds a redirect from the request as it was before
     * the network interceptors, so there is normally nothing to take off; the app's own
     * headers are left alone.
     */
    private fun without(request: Request, added: List<HttpHeader>): Request {
        fun ours(name: String, value: String) = added.any { it.name.equals(name, ignoreCase = true) && it.value == value }
        if (added.isEmpty() || request.headers.none { (name, value) -> ours(name, value) }) return request
        val kept = Headers.Builder()
        request.headers.forEach { (name, value) -> if (!ours(name, value)) kept.addUnsafeNonAscii(name, value) }
        return request.newBuilder().headers(kept.build()).build()
    }
}
