package dev.refreshkit.okhttp

import dev.refreshkit.SessionInterface
import dev.refreshkit.TokenLease
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.ktx.RefreshKitJvm
import java.io.IOException
import okhttp3.Interceptor
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.Response

/**
 * Adds the session's access token to OkHttp (and Retrofit) requests, and when the answer
 * says the token expired, asks the session for a newer one and retries once. The session's
 * config decides everything: which hosts get the token (`baseUrl`, `tokenHosts`; plain
 * `http://` only on loopback), the header (`headerName`, `headerScheme`) and what
 * "expired" looks like (`expiredStatuses`, `expiredBodyRule`).
 *
 * Install it with [addRefreshKit]: it has two parts. This one, an application interceptor,
 * gets the token and retries; [network] puts the token on each hop OkHttp sends, redirects
 * included, and only on hops whose URL may receive it. OkHttp builds a redirect from the
 * request before the network interceptors, so the token never follows a redirect by itself.
 * A call that starts at a URL that may not receive the token never gets it, wherever it is
 * redirected. An OkHttp `Cache` sits above the network part, so it sees requests without
 * the token.
 *
 * Only an answer to a hop that carried the token can mean "expired": a 401 from a host the
 * token never went to refreshes nothing.
 *
 * Waiting for a refresh ends when the call is cancelled or its `callTimeout` passes; the
 * refresh goes on for the other requests. A dispatcher full of waiting calls cannot starve
 * the refresh, which runs in refreshkit's own runtime (OkHttp #6747, Retrofit #3587).
 *
 * Failures reach OkHttp as IOExceptions ([RefreshKitIOException] when the session said no).
 */
class RefreshKitInterceptor(private val session: SessionInterface) : Interceptor {
    private val rules = TokenRules(session)

    /** The last lease, reused while the core says its token is still the one to send. */
    @Volatile
    private var lease: TokenLease? = null

    /** The part that runs for every hop; [addRefreshKit] installs it as a network interceptor. */
    val network: Interceptor = Interceptor { chain -> onHop(chain) }

    init {
        RefreshKitJvm.keepCallbackThreadsAttached()
    }

    override fun intercept(chain: Interceptor.Chain): Response {
        val request = chain.request()
        if (!guarded { rules.mayReceiveToken(request.url) }) return chain.proceed(request)
        val first = send(chain, request, currentToken(chain))
        val sent = first.sentToken ?: return first.response
        if (request.body?.isOneShot() == true || !expired(first.response)) return first.response
        first.response.close()
        val fresh = chain.call().await { session.refreshAfterUnauthorized(sent) }
        return send(chain, request, fresh).response
    }

    private fun onHop(chain: Interceptor.Chain): Response {
        val request = chain.request()
        val hops = request.tag(Hops::class.java) ?: return chain.proceed(request)
        hops.seen = true
        val header = guarded { rules.header(request.url, hops.token) }
        hops.sentToken = if (header != null) hops.token else null
        if (header == null) return chain.proceed(request)
        return chain.proceed(request.newBuilder().header(header.name, header.value).build())
    }

    private fun send(chain: Interceptor.Chain, request: Request, token: String): Hops {
        val hops = Hops(token)
        val response = chain.proceed(request.newBuilder().tag(Hops::class.java, hops).build())
        if (!hops.seen && response.networkResponse != null) {
            response.close()
            throw IOException("refreshkit: the network part is missing; install with addRefreshKit")
        }
        return hops.also { it.response = response }
    }

    private fun expired(response: Response): Boolean =
        try {
            guarded { rules.isExpired(response) }
        } catch (e: IOException) {
            response.close()
            throw e
        }

    private fun currentToken(chain: Interceptor.Chain): String {
        lease?.let { if (LeaseCheck.isCurrent(it)) return it.accessToken }
        // One suspend call: it waits for a refresh when one is due, and the call's
        // cancellation or callTimeout gives it up.
        return chain.call().await { session.accessTokenLease() }.also { lease = it }.accessToken
    }

    /** Runs a call into the session; whatever it throws reaches OkHttp as an IOException. */
    private inline fun <T> guarded(call: () -> T): T =
        try {
            call()
        } catch (e: IOException) {
            throw e
        } catch (e: Exception) {
            throw asIOException(e)
        }

    /** What the hops of one attempt did; the last hop's answer is the call's answer. */
    private class Hops(val token: String) {
        @Volatile var seen = false
        @Volatile var sentToken: String? = null
        lateinit var response: Response
    }
}

/** Installs [RefreshKitInterceptor] for [session]: both parts, each in its place. */
fun OkHttpClient.Builder.addRefreshKit(session: SessionInterface): OkHttpClient.Builder =
    addRefreshKit(RefreshKitInterceptor(session))

/** Adds refreshkit to an OkHttp (or Retrofit) client, for apps that hold an [ObservableSession]. */
fun OkHttpClient.Builder.addRefreshKit(session: ObservableSession): OkHttpClient.Builder = addRefreshKit(session.session)

/** Installs [interceptor]'s two parts, for apps that keep a reference to it. */
fun OkHttpClient.Builder.addRefreshKit(interceptor: RefreshKitInterceptor): OkHttpClient.Builder =
    addInterceptor(interceptor).addNetworkInterceptor(interceptor.network)
