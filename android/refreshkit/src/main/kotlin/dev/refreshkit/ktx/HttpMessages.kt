@file:JvmName("HttpMessages")

package dev.refreshkit.ktx

import dev.refreshkit.HttpHeader
import dev.refreshkit.HttpRequest
import dev.refreshkit.HttpResponse
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.toKotlinDuration

// Kotlin-shaped views of the generated HttpRequest and HttpResponse: statuses as Int,
// headers as a map, durations, and equality that compares bodies byte by byte.
//
// Equality: the generated classes are data classes holding a ByteArray body, and a data
// class compares arrays by identity. Two answers with the same bytes are never `==`, and
// their hashCode differs: compare them with [contentEquals] / [contentHashCode].

/** A request for [url] (absolute, or a path resolved against the session's base URL), headers given as a map. */
@JvmOverloads
fun httpRequest(
    url: String,
    method: String = "GET",
    headers: Map<String, String> = emptyMap(),
    body: ByteArray? = null,
): HttpRequest = HttpRequest(method = method, url = url, headers = headers.map { (name, value) -> HttpHeader(name, value) }, body = body)

/** This request with its own bound, queueing and sending included, in place of the session's request timeout. */
fun HttpRequest.withTimeout(timeout: Duration): HttpRequest {
    require(timeout.isFinite() && !timeout.isNegative()) { "timeout: $timeout is not a finite, non-negative duration" }
    return copy(timeoutMs = timeout.inWholeMilliseconds.toULong())
}

/** [withTimeout] for Java's durations. */
fun HttpRequest.withTimeout(timeout: java.time.Duration): HttpRequest = withTimeout(timeout.toKotlinDuration())

/** This request with one more header (a name may appear more than once). */
fun HttpRequest.withHeader(name: String, value: String): HttpRequest = copy(headers = headers + HttpHeader(name, value))

/** The request's own bound, or null when the session's request timeout applies. */
val HttpRequest.timeout: Duration? get() = timeoutMs?.toLong()?.milliseconds

/** The headers by name, ignoring case; a name sent more than once has all its values, in order. */
val HttpRequest.headerMap: Map<String, List<String>> get() = headers.byName()

/** The first value of header [name] (any case), or null. */
fun HttpRequest.header(name: String): String? = headers.firstOrNull { it.name.equals(name, ignoreCase = true) }?.value

/** The HTTP status as an Int (the generated field is a `UShort`). */
val HttpResponse.code: Int get() = status.toInt()

/** Whether the status is 2xx. */
val HttpResponse.isSuccessful: Boolean get() = code in 200..299

/** The headers by name, ignoring case; a name sent more than once has all its values, in order. */
val HttpResponse.headerMap: Map<String, List<String>> get() = headers.byName()

/** The first value of header [name] (any case), or null. */
fun HttpResponse.header(name: String): String? = headers.firstOrNull { it.name.equals(name, ignoreCase = true) }?.value

/** The body as UTF-8 text. */
fun HttpResponse.bodyText(): String = body.decodeToString()

/** Same status, headers and body bytes. (`==` compares the body arrays by identity.) */
fun HttpResponse.contentEquals(other: HttpResponse?): Boolean =
    other != null && status == other.status && headers == other.headers && body.contentEquals(other.body)

/** A hash code that agrees with [contentEquals]. */
fun HttpResponse.contentHashCode(): Int = (status.hashCode() * 31 + headers.hashCode()) * 31 + body.contentHashCode()

/** Same method, URL, headers, body bytes and timeout. (`==` compares the body arrays by identity.) */
fun HttpRequest.contentEquals(other: HttpRequest?): Boolean =
    other != null && method == other.method && url == other.url && headers == other.headers &&
        timeoutMs == other.timeoutMs && body.contentEquals(other.body)

/** A hash code that agrees with [contentEquals]. */
fun HttpRequest.contentHashCode(): Int =
    (((method.hashCode() * 31 + url.hashCode()) * 31 + headers.hashCode()) * 31 + timeoutMs.hashCode()) * 31 + body.contentHashCode()

private fun List<HttpHeader>.byName(): Map<String, List<String>> {
    val map = java.util.TreeMap<String, MutableList<String>>(String.CASE_INSENSITIVE_ORDER)
    forEach { map.getOrPut(it.name) { mutableListOf() }.add(it.value) }
    return map
}
