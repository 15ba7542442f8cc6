package dev.refreshkit.ktor

import dev.refreshkit.SessionException
import dev.refreshkit.SessionInterface
import dev.refreshkit.TokenLease
import dev.refreshkit.ktx.LeaseCheck
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.ktx.RefreshKitJvm
import dev.refreshkit.ktx.TokenRuleCache
import io.ktor.client.call.HttpClientCall
import io.ktor.client.plugins.api.ClientPlugin
import io.ktor.client.plugins.api.Send
import io.ktor.client.plugins.api.SendingRequest
import io.ktor.client.plugins.api.createClientPlugin
import io.ktor.client.request.HttpRequestBuilder
import io.ktor.http.content.OutgoingContent
import io.ktor.util.AttributeKey

/** What [RefreshKit] is installed with: the session whose token it sends. */
class RefreshKitConfig {
    /** The session; required. */
    var session: SessionInterface? = null

    /** Sends the token of [session], an [ObservableSession]. */
    fun session(session: ObservableSession) {
        this.session = session.session
    }
}

/**
 * The Ktor client plugin of refreshkit: the session's access token on each request
 * whose URL may receive it, and, when the answer says the token expired, one refresh
 * shared by every request that saw it expire, then each sent once more. The session's
 * config decides everything, as for the OkHttp interceptor: which hosts get the token
 * (`baseUrl`, `tokenHosts`; plain `http://` only on loopback), the header (`headerName`,
 * `headerScheme`) and what "expired" looks like (`expiredStatuses`, `expiredBodyRule`).
 *
 * ```
 * val client = HttpClient(CIO) {
 *     install(RefreshKit) { session(observableSession) }
 * }
 * ```
 *
 * - The token goes on each hop Ktor sends, redirects included, and only on hops whose
 *   URL may receive it.
 * - Only an answer to a hop that carried the token can mean "expired". A request whose
 *   body can be read once (a `ReadChannelContent`) is never sent again.
 * - With an `expiredBodyRule`, a JSON answer (`application/json`, a `+json` type, or no
 *   type) of at most 64 KiB with a `Content-Length` is read into memory to check the
 *   rule, and the app reads it from there; other answers (streams, larger or chunked
 *   ones) are not read and only their status counts.
 * - Waiting for a refresh ends when the request's coroutine is cancelled; the refresh
 *   goes on for the others.
 * - Without a user (signed out, or the session expired), requests go out without a
 *   token, so the login call and public endpoints work; a request marked with
 *   [requireToken] fails with `SessionException.NotSignedIn` or `SessionExpired`
 *   instead, and is not sent. Other session failures reach the caller as the session's
 *   typed `SessionException`.
 * - Bearer tokens only: a request with a DPoP-bound token fails with
 *   [UnsupportedOperationException] (the OkHttp interceptor sends those).
 */
val RefreshKit: ClientPlugin<RefreshKitConfig> = createClientPlugin("RefreshKit", ::RefreshKitConfig) {
    val session = requireNotNull(pluginConfig.session) { "RefreshKit: install it with session(...)" }
    RefreshKitJvm.keepCallbackThreadsAttached()
    val rules = TokenRuleCache(session)
    val leases = Leases(session)

    // Each hop, redirects included: the token only where it may go.
    on(SendingRequest) { request, _ ->
        val attempt = request.attributes.getOrNull(AttemptKey) ?: return@on
        attempt.added?.let { request.headers.remove(it.name) }
        attempt.added = null
        val url = request.url.buildString()
        val header = if (rules.mayReceiveToken(url, request.url.protocol.name == "https", request.url.host)) {
            rules.header(url, attempt.token)
        } else {
            null
        }
        attempt.carried = header != null
        if (header != null) {
            request.headers[header.name] = header.value
            attempt.added = header
        }
    }

    // The call: a token, and one refresh and replay when the last hop's answer says it expired.
    on(Send) { request ->
        val url = request.url.buildString()
        if (!rules.mayReceiveToken(url, request.url.protocol.name == "https", request.url.host)) return@on proceed(request)
        val lease = leases.current(request) ?: return@on proceed(request)
        if (lease.needsProof) throw UnsupportedOperationException("refreshkit: the Ktor plugin sends Bearer tokens; use the OkHttp interceptor for DPoP")
        val attempt = Attempt(lease.accessToken)
        request.attributes.put(AttemptKey, attempt)
        val first = judged(proceed(request), attempt, rules)
        if (!first.expired || request.body is OutgoingContent.ReadChannelContent) return@on first.call
        first.call.discard()
        attempt.token = session.refreshAfterUnauthorized(lease.accessToken)
        proceed(request)
    }
}

/** Marks this request as one that must carry the token: without a signed-in user it fails instead of going out without one. */
fun HttpRequestBuilder.requireToken() {
    attributes.put(RequiresTokenKey, Unit)
}

private val RequiresTokenKey = AttributeKey<Unit>("dev.refreshkit.RequiresToken")
private val AttemptKey = AttributeKey<Attempt>("dev.refreshkit.Attempt")

/** One call's token, and what its hops did with it (a redirect's hop shares it). */
private class Attempt(@Volatile var token: String) {
    @Volatile var carried = false
    @Volatile var added: dev.refreshkit.HttpHeader? = null
}

/** The last lease, reused while the core says its token is still the one to send. */
private class Leases(private val session: SessionInterface) {
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

private class Judged(val call: HttpClientCall, val expired: Boolean)

/** Whether [call]'s answer says the token expired: only when its last hop carried the token. */
private suspend fun judged(call: HttpClientCall, attempt: Attempt, rules: TokenRuleCache): Judged {
    if (!attempt.carried) return Judged(call, false)
    if (!rules.readsBody) return Judged(call, rules.isExpired(call.response.status.value, null))
    val peeked = peekJson(call)
    return Judged(peeked.call, rules.isExpired(call.response.status.value, peeked.body))
}
