package dev.refreshkit.ktx

import dev.refreshkit.BodyRule
import dev.refreshkit.RefreshProtocol
import dev.refreshkit.SessionConfig
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.toKotlinDuration

/**
 * Builds a [SessionConfig] from durations and plain numbers, in Kotlin and in Java. The
 * generated constructor takes milliseconds and statuses as unsigned numbers
 * (`requestTimeoutMs = 5_000u`, `listOf(401u)`), and Java cannot call it at all.
 *
 * ```
 * // Kotlin
 * val config = sessionConfig("https://api.example.com") {
 *     requestTimeout(5.seconds)
 *     expiredStatuses(401, 419)
 * }
 * // Java
 * SessionConfig config = new SessionConfigBuilder("https://api.example.com")
 *     .requestTimeout(Duration.ofSeconds(5))
 *     .expiredStatuses(401, 419)
 *     .build();
 * ```
 *
 * What is not set keeps the default the generated constructor shows. A negative
 * duration or count, an infinite duration, or a status outside 100..599 throws
 * [IllegalArgumentException] at once, not when the session is built.
 */
class SessionConfigBuilder(baseUrl: String) {
    private var config = SessionConfig(baseUrl = baseUrl)

    /** Starts from [config], to change some of its settings. */
    constructor(config: SessionConfig) : this(config.baseUrl) {
        this.config = config.copy()
    }

    /** Path (or absolute URL) of the refresh endpoint. */
    fun refreshPath(path: String) = apply { config.refreshPath = path }

    /** Bound on each request, from waiting for a place on the wire to the last byte of the answer. */
    fun requestTimeout(timeout: Duration) = apply { config.requestTimeoutMs = millis(timeout, "requestTimeout") }
    fun requestTimeout(timeout: java.time.Duration) = requestTimeout(timeout.toKotlinDuration())

    /** How long requests wait for a refresh (the refresh itself gets four times as long in the background). */
    fun refreshTimeout(timeout: Duration) = apply { config.refreshTimeoutMs = millis(timeout, "refreshTimeout") }
    fun refreshTimeout(timeout: java.time.Duration) = refreshTimeout(timeout.toKotlinDuration())

    /** Bound on each call into the app's `TokenStore`. */
    fun storeTimeout(timeout: Duration) = apply { config.storeTimeoutMs = millis(timeout, "storeTimeout") }
    fun storeTimeout(timeout: java.time.Duration) = storeTimeout(timeout.toKotlinDuration())

    /** Refresh before a request when the access token expires within this time. */
    fun refreshLeeway(leeway: Duration) = apply { config.refreshLeewayMs = millis(leeway, "refreshLeeway") }
    fun refreshLeeway(leeway: java.time.Duration) = refreshLeeway(leeway.toKotlinDuration())

    /** How the refresh call is made; OAuth 2.0 without client credentials when not set. */
    fun refreshProtocol(protocol: RefreshProtocol) = apply { config.refreshProtocol = protocol }

    /** HTTP statuses that mean "the access token expired" (401 when not set; none for a body rule only). */
    fun expiredStatuses(vararg statuses: Int) = apply {
        statuses.forEach { require(it in 100..599) { "expiredStatuses: $it is not an HTTP status" } }
        config.expiredStatuses = statuses.map { it.toUShort() }
    }

    /** Answers whose JSON value at [pointer] (like `/code`) is one of [values] also mean "expired". */
    fun expiredBodyRule(pointer: String, vararg values: String) = apply {
        config.expiredBodyRule = BodyRule(pointer = pointer, values = values.toList())
    }

    /** The header that carries the token, and what goes before the token in it (empty: the bare token). */
    fun tokenHeader(name: String, scheme: String) = apply {
        config.headerName = name
        config.headerScheme = scheme
    }

    /** Hosts besides the base URL's host that may receive the token. */
    fun tokenHosts(vararg hosts: String) = apply { config.tokenHosts = hosts.toList() }

    /** Allows plain `http://` to hosts other than loopback. Never in production. */
    fun allowInsecureHttp(allow: Boolean) = apply { config.allowInsecureHttp = allow }

    /** The refresh guard's backstop: at most [count] refreshes after a rejected token per [window]. */
    fun refreshGuard(count: Int, window: Duration) = apply {
        config.maxRefreshesPerWindow = nonNegative(count, "refreshGuard").toUInt()
        config.refreshWindowMs = millis(window, "refreshGuard")
    }
    fun refreshGuard(count: Int, window: java.time.Duration) = refreshGuard(count, window.toKotlinDuration())

    /** Requests on the wire at once; the rest queue. */
    fun maxConcurrentRequests(count: Int) = apply {
        config.maxConcurrentRequests = nonNegative(count, "maxConcurrentRequests").toUInt()
    }

    /** The largest response body `execute` reads; a larger one fails with `ResponseTooLarge`. */
    fun maxResponseBytes(bytes: Long) = apply {
        require(bytes >= 0) { "maxResponseBytes: $bytes is negative" }
        config.maxResponseBytes = bytes.toULong()
    }

    /** The config as set so far; the builder may go on and build another. */
    fun build(): SessionConfig = config.copy()

    private fun millis(duration: Duration, name: String): ULong {
        require(duration.isFinite() && !duration.isNegative()) { "$name: $duration is not a finite, non-negative duration" }
        return duration.inWholeMilliseconds.toULong()
    }

    private fun nonNegative(value: Int, name: String): Int = value.also { require(it >= 0) { "$name: $it is negative" } }
}

/** A [SessionConfig] for [baseUrl], with the settings [block] gives a [SessionConfigBuilder]. */
fun sessionConfig(baseUrl: String, block: SessionConfigBuilder.() -> Unit = {}): SessionConfig =
    SessionConfigBuilder(baseUrl).apply(block).build()

/** [SessionConfig.requestTimeoutMs] as a [Duration]. */
val SessionConfig.requestTimeout: Duration get() = requestTimeoutMs.toLong().milliseconds

/** [SessionConfig.refreshTimeoutMs] as a [Duration]. */
val SessionConfig.refreshTimeout: Duration get() = refreshTimeoutMs.toLong().milliseconds

/** [SessionConfig.storeTimeoutMs] as a [Duration]. */
val SessionConfig.storeTimeout: Duration get() = storeTimeoutMs.toLong().milliseconds

/** [SessionConfig.refreshLeewayMs] as a [Duration]. */
val SessionConfig.refreshLeeway: Duration get() = refreshLeewayMs.toLong().milliseconds
