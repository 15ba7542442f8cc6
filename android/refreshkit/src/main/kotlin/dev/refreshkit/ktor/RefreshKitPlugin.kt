package dev.refreshkit.ktor

import dev.refreshkit.AnswerMeaning
import dev.refreshkit.SessionInterface
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.ktx.RefreshKitJvm
import dev.refreshkit.ktx.TokenRuleCache
import io.ktor.client.plugins.api.ClientPlugin
import io.ktor.client.plugins.api.Send
import io.ktor.client.plugins.api.SendingRequest
import io.ktor.client.plugins.api.createClientPlugin
import io.ktor.client.request.HttpRequestBuilder
import io.ktor.http.content.OutgoingContent

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
 * - A DPoP-bound token (a session with a `DpopKey` whose server bound its tokens) goes
 *   out with a proof the core makes for each hop, for that hop's method and URL. The
 *   core reads every answer to such a request, learning the server's nonce and clock: a
 *   proof refused for them is made again and sent once more with the same token, never
 *   taken for an expired token.
 */
val RefreshKit: ClientPlugin<RefreshKitConfig> = createClientPlugin("RefreshKit", ::RefreshKitConfig) {
    val session = requireNotNull(pluginConfig.session) { "RefreshKit: install it with session(...)" }
    RefreshKitJvm.keepCallbackThreadsAttached()
    val rules = TokenRuleCache(session)
    val leases = Leases(session)

    fun mayReceiveToken(request: HttpRequestBuilder, url: String) =
        rules.mayReceiveToken(url, request.url.protocol.name == "https", request.url.host)

    // Each hop, redirects included: the token only where it may go; a DPoP proof made
    // for this hop's own method and URL.
    on(SendingRequest) { request, _ ->
        val attempt = request.attributes.getOrNull(AttemptKey) ?: return@on
        attempt.added.forEach { request.headers.remove(it.name) }
        val url = request.url.buildString()
        val headers = when {
            !mayReceiveToken(request, url) -> emptyList()
            attempt.needsProof -> session.tokenHeadersFor(request.method.value, url, attempt.token)
            else -> listOfNotNull(rules.header(url, attempt.token))
        }
        headers.forEach { request.headers[it.name] = it.value }
        attempt.added = headers
        attempt.carried = headers.isNotEmpty()
    }

    // The call: a token; once more with a new proof when the server refused the last one
    // for its nonce or clock; once more after one refresh when the token expired.
    on(Send) { request ->
        if (!mayReceiveToken(request, request.url.buildString())) return@on proceed(request)
        val lease = leases.current(request) ?: return@on proceed(request)
        val attempt = Attempt(lease.accessToken, lease.needsProof)
        request.attributes.put(AttemptKey, attempt)
        val replayable = request.body !is OutgoingContent.ReadChannelContent
        var proofMadeAgain = false
        var refreshed = false
        var call = proceed(request)
        // Only an answer to a hop that carried the token can ask for another send.
        while (attempt.carried) {
            val judged = judged(call, attempt, replayable, session, rules)
            call = judged.call
            val again = replayable && when (judged.meaning) {
                AnswerMeaning.NEW_PROOF -> !proofMadeAgain
                AnswerMeaning.EXPIRED -> !refreshed
                AnswerMeaning.SERVED, AnswerMeaning.STEP_UP -> false
            }
            if (!again) break
            call.discard()
            if (judged.meaning == AnswerMeaning.NEW_PROOF) {
                proofMadeAgain = true // the same token; the next hop gets a proof with what the core learnt
            } else {
                refreshed = true
                attempt.token = session.refreshAfterUnauthorized(attempt.token)
            }
            call = proceed(request)
        }
        call
    }
}

/** Marks this request as one that must carry the token: without a signed-in user it fails instead of going out without one. */
fun HttpRequestBuilder.requireToken() {
    attributes.put(RequiresTokenKey, Unit)
}
