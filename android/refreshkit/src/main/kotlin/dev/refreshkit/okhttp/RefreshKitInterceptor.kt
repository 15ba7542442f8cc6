package dev.refreshkit.okhttp

import dev.refreshkit.AnswerMeaning
import dev.refreshkit.SessionException
import dev.refreshkit.SessionInterface
import dev.refreshkit.TokenLease
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.ktx.LeaseCheck
import dev.refreshkit.ktx.RefreshKitJvm
import java.io.IOException
import okhttp3.Interceptor
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.Response
import okhttp3.internal.connection.RealCall

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
 * the token; an answer that varies on the token's header (`Vary: Authorization`) is not
 * stored, since the cache would write the token to disk for it.
 *
 * A DPoP-bound token (RFC 9449; a session with a `DpopKey` whose server bound its tokens)
 * goes out as `Authorization: DPoP <token>` with a `DPoP` proof the core makes for each
 * hop, for that hop's method and URL; neither goes to a hop that may not receive the
 * token. The core reads every answer to such a hop, learning the server's nonce and
 * clock: a proof the server refused for them is made again and sent once more with the
 * same token, never taken for an expired token.
 *
 * Only an answer to a hop that carried the token can mean "expired": a 401 from a host the
 * token never went to refreshes nothing. A request whose body is one-shot is never sent
 * again.
 *
 * An answer asking for a step-up login (`WWW-Authenticate: Bearer
 * error="insufficient_user_authentication"`, RFC 9470, or `error="insufficient_scope"`,
 * RFC 6750) is no expired token, even as a 401 in `expiredStatuses`: it is handed over as
 * it is, nothing refreshed or sent again, and [stepUpChallenge] reads what it asks for.
 *
 * Every wait in this layer (for a refresh, or for a DPoP proof from a key that takes
 * seconds to sign) ends when the call is cancelled or its `callTimeout` passes; the
 * refresh goes on for the other requests. A dispatcher full of waiting calls cannot starve
 * the refresh, which runs in refreshkit's own runtime (OkHttp #6747, Retrofit #3587).
 *
 * Without a user (signed out, or the session expired and nobody signed in again), a
 * request goes out as it is, without a token: the login call and public endpoints on a
 * token host work. A request that must not leave without the token is marked with
 * [requireToken]; without a user it fails with [RefreshKitIOException] (`NotSignedIn` or
 * `SessionExpired`) and is never sent.
 *
 * A WebSocket (`newWebSocket`) to a URL that may receive the token carries it on its
 * upgrade request, and a 401 there refreshes the token once and upgrades again. OkHttp
 * follows a redirect of the upgrade with all its headers but `Authorization`, so a custom
 * token header or a DPoP proof needs a WebSocket client with `followRedirects(false)`.
 *
 * Failures reach OkHttp as IOExceptions ([RefreshKitIOException] when the session said no).
 */
class RefreshKitInterceptor(private val session: SessionInterface) : Interceptor {
    private val rules = TokenRules(session)

    /** The last lease, reused while the core says its token is still the one to send. */
    @Volatile
    private var lease: TokenLease? = null

    /** The part that runs for every hop; [addRefreshKit] installs it as a network interceptor. */
    val network: Interceptor = TokenHops(rules)

    init {
        RefreshKitJvm.keepCallbackThreadsAttached()
    }

    override fun intercept(chain: Interceptor.Chain): Response {
        val request = chain.request()
        if (!guarded { rules.mayReceiveToken(request.url) }) return chain.proceed(request)
        val replayable = request.body?.isOneShot() != true
        var current = currentLease(chain, request) ?: return chain.proceed(request)
        var proofMadeAgain = false
        var refreshed = false
        while (true) {
            val attempt = send(chain, request, current)
            if (!attempt.carried) return attempt.response
            val meaning = meaning(attempt.response, current, replayable)
            val again = replayable && when (meaning) {
                AnswerMeaning.NEW_PROOF -> !proofMadeAgain
                AnswerMeaning.EXPIRED -> !refreshed
                AnswerMeaning.SERVED, AnswerMeaning.STEP_UP -> false
            }
            if (!again) return attempt.response
            attempt.response.close()
            if (meaning == AnswerMeaning.NEW_PROOF) {
                // The same token: the network part makes a new proof with what the core learnt.
                proofMadeAgain = true
            } else {
                refreshed = true
                val fresh = chain.call().await { session.refreshAfterUnauthorized(current.accessToken) }
                // For this call only (the next calls take a lease from the session); a
                // refreshed token keeps its binding to the key.
                current = current.copy(accessToken = fresh)
            }
        }
    }

    private fun send(chain: Interceptor.Chain, request: Request, lease: TokenLease): Hops {
        val hops = Hops(lease)
        val call = chain.call()
        val response = if (call is RealCall && call.forWebSocket) {
            upgrade(chain, call, request, hops)
        } else {
            chain.proceed(request.newBuilder().tag(Hops::class.java, hops).build())
        }
        if (!hops.seen && response.networkResponse != null) {
            response.close()
            throw IOException("refreshkit: the network part is missing; install with addRefreshKit")
        }
        return hops.also { it.response = it.withServerVary(response) }
    }

    /**
     * A WebSocket's upgrade request: OkHttp runs no network interceptors for it, so this
     * part puts the token on it, for the upgrade's own URL. OkHttp follows a redirect of
     * the upgrade with the same headers, taking off only `Authorization` when the host
     * changes: another token header, or a DPoP proof, needs a client that follows no
     * redirects, or it could reach a host that may not receive it.
     */
    private fun upgrade(chain: Interceptor.Chain, call: RealCall, request: Request, hops: Hops): Response {
        hops.seen = true
        val headers = guarded { rules.headersFor(call, request, hops.lease) }
        hops.carried = headers.isNotEmpty()
        if (headers.isEmpty()) return chain.proceed(request)
        if (call.client.followRedirects && headers.any { !it.name.equals("Authorization", ignoreCase = true) }) {
            throw IOException(
                "refreshkit: a WebSocket whose token goes in ${headers.joinToString { it.name }} needs a client " +
                    "with followRedirects(false): OkHttp would send those headers along a redirect to any host",
            )
        }
        hops.added = headers
        return chain.proceed(request.newBuilder().apply { headers.forEach { header(it.name, it.value) } }.build())
    }

    /**
     * What the answer to a hop that carried the token means: the core's reading for a
     * DPoP-bound token (it learns from each such answer, even one never sent again) and
     * for an answer with a challenge; the remembered rules for a Bearer token.
     */
    private fun meaning(response: Response, lease: TokenLease, replayable: Boolean): AnswerMeaning =
        try {
            when {
                lease.needsProof -> guarded { rules.meaning(response, readBody = replayable) }
                // A challenge may ask for a step-up login, which is no expired token: the core reads it.
                response.headers("WWW-Authenticate").isNotEmpty() ->
                    guarded { rules.meaning(response, readBody = replayable) }
                replayable && guarded { rules.isExpired(response) } -> AnswerMeaning.EXPIRED
                else -> AnswerMeaning.SERVED
            }
        } catch (e: IOException) {
            response.close()
            throw e
        }

    /** The lease to send, or null when there is no user and [request] may go without a token. */
    private fun currentLease(chain: Interceptor.Chain, request: Request): TokenLease? {
        lease?.let { if (LeaseCheck.isCurrent(it)) return it }
        // One suspend call: it waits for a refresh when one is due, and the call's
        // cancellation or callTimeout gives it up.
        return try {
            chain.call().await { session.accessTokenLease() }.also { lease = it }
        } catch (e: RefreshKitIOException) {
            val noUser = e.reason is SessionException.NotSignedIn || e.reason is SessionException.SessionExpired
            if (noUser && request.tag(RequiresToken::class.java) == null) null else throw e
        }
    }
}

/** The tag [requireToken] puts on a request. */
object RequiresToken

/**
 * Marks this request as one that must carry the session's token: without a signed-in
 * user it fails with [RefreshKitIOException] instead of going out without one (by
 * default such requests are sent as they are, so the login call and public endpoints work).
 */
fun Request.Builder.requireToken(): Request.Builder = tag(RequiresToken::class.java, RequiresToken)

/** Installs [RefreshKitInterceptor] for [session]: both parts, each in its place. */
fun OkHttpClient.Builder.addRefreshKit(session: SessionInterface): OkHttpClient.Builder =
    addRefreshKit(RefreshKitInterceptor(session))

/** Adds refreshkit to an OkHttp (or Retrofit) client, for apps that hold an [ObservableSession]. */
fun OkHttpClient.Builder.addRefreshKit(session: ObservableSession): OkHttpClient.Builder = addRefreshKit(session.session)

/** Installs [interceptor]'s two parts, for apps that keep a reference to it. */
fun OkHttpClient.Builder.addRefreshKit(interceptor: RefreshKitInterceptor): OkHttpClient.Builder =
    addInterceptor(interceptor).addNetworkInterceptor(interceptor.network)
