package dev.refreshkit.okhttp

import dev.refreshkit.HttpHeader
import dev.refreshkit.StepUpChallenge
import dev.refreshkit.parseStepUpChallenge
import okhttp3.Response

/**
 * The step-up login this answer asks for, or null: a 401 or 403 whose Bearer or DPoP
 * challenge says `insufficient_user_authentication` (RFC 9470: `acrValues`, `maxAge`) or
 * `insufficient_scope` (RFC 6750: `scope`). [RefreshKitInterceptor] hands such an answer
 * over as it is, refreshing nothing: run the app's login with these parameters, `signIn`
 * with its tokens, and send the request again. With Retrofit, read it from
 * `response.raw()` (or `HttpException.response()?.raw()`).
 */
fun Response.stepUpChallenge(): StepUpChallenge? {
    val challenges = headers("WWW-Authenticate")
    if (challenges.isEmpty()) return null
    return parseStepUpChallenge(code.toUShort(), challenges.map { HttpHeader("WWW-Authenticate", it) })
}
