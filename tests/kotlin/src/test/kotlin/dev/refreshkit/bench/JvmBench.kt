package dev.refreshkit.bench

import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.Tokens
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.okhttp.addRefreshKit
import dev.refreshkit.test.AuthServer
import dev.refreshkit.test.FlakyStore
import java.io.IOException
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import okhttp3.Authenticator
import okhttp3.Call
import okhttp3.Callback
import okhttp3.ConnectionPool
import okhttp3.Dispatcher
import okhttp3.FormBody
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.Response
import okhttp3.Route

/**
 * The JVM rows of BENCHMARKS.md: refreshkit through its Kotlin bindings against OkHttp on
 * the same endpoint, and the OkHttp Authenticators Android apps write and Ktor's bearer
 * Auth plugin (KtorPeer.kt), on the same burst as the Rust benchmark. Run by scripts/bench.sh; prints Markdown.
 */
internal const val REPEATS = 5

internal fun median(xs: List<Double>) = xs.sorted()[xs.size / 2]

/** The list started at its `by`-th element (modulo its size), the rest wrapped round. */
private fun <T> List<T>.rotated(by: Int): List<T> = drop(by % size) + take(by % size)

private fun dispatcher() = Dispatcher().apply { maxRequests = 64; maxRequestsPerHost = 64 }

/** OkHttp as tuned for 64 concurrent calls: its default pool keeps only 5 idle connections. */
private fun okHttpFor64() = OkHttpClient.Builder().dispatcher(dispatcher()).connectionPool(ConnectionPool(64, 5, TimeUnit.MINUTES))

private fun OkHttpClient.close() {
    dispatcher.executorService.shutdown()
    connectionPool.evictAll()
}

/** One client for every refresh, as an app would keep one. */
private val refresher = OkHttpClient()

/** Where an OkHttp client keeps the tokens, as an app would. */
internal class TokenHolder(@Volatile var access: String, @Volatile var refresh: String)

private fun refreshWithOkHttp(server: AuthServer, holder: TokenHolder) {
    val form = FormBody.Builder().add("grant_type", "refresh_token").add("refresh_token", holder.refresh).build()
    refresher.newCall(Request.Builder().url("${server.baseUrl}/oauth/token").post(form).build()).execute().use { r ->
        val body = r.body!!.string()
        if (!r.isSuccessful) throw IOException("refresh failed: ${r.code}")
        holder.access = Regex("\"access_token\":\"([^\"]+)\"").find(body)!!.groupValues[1]
        holder.refresh = Regex("\"refresh_token\":\"([^\"]+)\"").find(body)!!.groupValues[1]
    }
}

/** The Authenticator most apps write first: no lock, every 401 refreshes. */
private class NaiveAuthenticator(val server: AuthServer, val holder: TokenHolder) : Authenticator {
    override fun authenticate(route: Route?, response: Response): Request? {
        if (response.priorResponse != null) return null
        refreshWithOkHttp(server, holder)
        return response.request.newBuilder().header("Authorization", "Bearer ${holder.access}").build()
    }
}

/** The usual fix: synchronized, and skip the refresh if the token already changed. */
private class SynchronizedAuthenticator(val server: AuthServer, val holder: TokenHolder) : Authenticator {
    override fun authenticate(route: Route?, response: Response): Request? {
        if (response.priorResponse != null) return null
        synchronized(this) {
            val sent = response.request.header("Authorization")?.removePrefix("Bearer ")
            if (sent == holder.access) refreshWithOkHttp(server, holder)
            return response.request.newBuilder().header("Authorization", "Bearer ${holder.access}").build()
        }
    }
}

internal class BurstResult(val millis: Double, val failures: Int, val refreshes: Long)

/** n concurrent OkHttp calls; `client` adds auth itself or through `header`. */
private fun okHttpBurst(server: AuthServer, client: OkHttpClient, n: Int, header: () -> String?): BurstResult {
    val before = server.stat("refreshes")
    val done = CountDownLatch(n)
    val failures = AtomicInteger()
    val started = System.nanoTime()
    repeat(n) {
        val request = Request.Builder().url("${server.baseUrl}/api/resource").apply { header()?.let { header("Authorization", it) } }.build()
        client.newCall(request).enqueue(object : Callback {
            override fun onFailure(call: Call, e: IOException) {
                failures.incrementAndGet()
                done.countDown()
            }

            override fun onResponse(call: Call, response: Response) {
                response.use { if (it.code != 200) failures.incrementAndGet() }
                done.countDown()
            }
        })
    }
    check(done.await(120, TimeUnit.SECONDS)) { "burst hung" }
    return BurstResult((System.nanoTime() - started) / 1e6, failures.get(), server.stat("refreshes") - before)
}

/** One burst of `n` against a fresh login, the token expired first or not. */
private fun burstOf(server: AuthServer, expired: Boolean, client: (TokenHolder) -> BurstResult): BurstResult {
    val login = server.login()
    val holder = TokenHolder(login.accessToken, login.refreshToken!!)
    if (expired) server.expireAll()
    server.fault("""{"kind": "delay", "ms": 50}""")
    return client(holder).also { server.reset() }
}

private fun okHttpPeer(server: AuthServer, n: Int, makeClient: (TokenHolder) -> OkHttpClient) = { expired: Boolean ->
    burstOf(server, expired) { holder ->
        val client = makeClient(holder)
        okHttpBurst(server, client, n) { "Bearer ${holder.access}" }.also { client.close() }
    }
}

private fun refreshKitPeer(server: AuthServer, n: Int) = { expired: Boolean ->
    burstOf(server, expired) { holder ->
        Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
            runBlocking { session.signIn(Tokens(accessToken = holder.access, refreshToken = holder.refresh)) }
            val client = OkHttpClient.Builder().dispatcher(dispatcher()).addRefreshKit(session).build()
            okHttpBurst(server, client, n) { null }.also { client.close() }
        }
    }
}

private fun ktorPeer(server: AuthServer, n: Int) = { expired: Boolean ->
    burstOf(server, expired) { holder -> ktorClient(server, holder).use { ktorBurst(server, it, n) } }
}

/** REPEATS pairs of bursts (valid token, then expired); refreshes median (max), failures summed. */
private fun peerRow(name: String, n: Int, burst: (expired: Boolean) -> BurstResult) {
    val ratios = mutableListOf<Double>()
    val refreshes = mutableListOf<Double>()
    var failures = 0
    repeat(REPEATS) {
        val valid = burst(false)
        val expired = burst(true)
        ratios += expired.millis / valid.millis
        refreshes += expired.refreshes.toDouble()
        failures += expired.failures
    }
    println("| $name | $n | ${median(refreshes).toLong()} (max ${refreshes.max().toLong()}) | $failures | ${"%.2f".format(median(ratios))} |")
}

/** Requests per second of 64 coroutines on Dispatchers.IO looping on [call] for the window. */
internal fun requestsPerSecond(call: suspend () -> Int, windowNanos: Long): Double = runBlocking {
    val count = AtomicLong()
    val started = System.nanoTime()
    val deadline = started + windowNanos
    withContext(Dispatchers.IO) {
        (1..64).map { async { while (System.nanoTime() < deadline) { call(); count.incrementAndGet() } } }.awaitAll()
    }
    count.get() * 1e9 / (System.nanoTime() - started)
}

/** The body's size; any status but 200 means the comparison is off. */
private fun Response.okBodySize(): Int = use {
    check(it.code == 200) { "status ${it.code}" }
    it.body!!.bytes().size
}

private fun latencyAndThroughput(server: AuthServer) = runBlocking {
    val login = server.login()
    val observable = ObservableSession(SessionConfig(baseUrl = server.baseUrl), FlakyStore())
    observable.signIn(login)
    Session(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
        session.signIn(login)
        val okhttp = okHttpFor64().build()
        val intercepted = okHttpFor64().addRefreshKit(session).build()
        val url = "${server.baseUrl}/api/resource"
        val plain: suspend () -> Int = { okhttp.newCall(Request.Builder().url(url).header("Authorization", "Bearer ${login.accessToken}").build()).execute().okBodySize() }
        val viaInterceptor: suspend () -> Int = { intercepted.newCall(Request.Builder().url(url).build()).execute().okBodySize() }
        val viaBindings: suspend () -> Int = { session.execute(HttpRequest(url = "/api/resource")).also { check(it.status.toInt() == 200) }.body.size }
        val viaBlocking: suspend () -> Int = { session.executeBlocking(HttpRequest(url = "/api/resource")).also { check(it.status.toInt() == 200) }.body.size }
        val viaObservable: suspend () -> Int = { observable.execute(HttpRequest(url = "/api/resource")).also { check(it.status.toInt() == 200) }.body.size }
        val variants: List<Pair<String, suspend () -> Int>> = listOf(
            "OkHttp" to plain,
            "Session.execute (bindings, suspend)" to viaBindings,
            "Session.executeBlocking (bindings)" to viaBlocking,
            "ObservableSession.execute (suspend)" to viaObservable,
            "OkHttp + RefreshKitInterceptor" to viaInterceptor,
        )
        // Warm-up, untimed: the JIT, connections, and each variant's 64-thread path. Three
        // one-second rounds each: with one half-second window, the rates were still rising
        // through the timed rounds (JvmProfileKt okhttp,observable,... shows the climb).
        repeat(2000) { variants.forEach { it.second() } }
        repeat(3) { variants.forEach { (_, call) -> requestsPerSecond(call, windowNanos = 1_000_000_000L) } }

        val latency = variants.associate { it.first to mutableListOf<Double>() }
        // Blocks of 500 calls of one variant, from a collected heap, in an order rotated each
        // round: call by call, whatever follows a call into refreshkit pays for its runtime
        // thread going back to sleep, and whatever follows the bindings collects their garbage.
        repeat(REPEATS) { r ->
            variants.rotated(r).forEach { (name, call) ->
                System.gc()
                val xs = List(500) { val t = System.nanoTime(); call(); (System.nanoTime() - t) / 1e3 }
                latency[name]!! += median(xs)
            }
        }
        val throughput = variants.associate { it.first to mutableListOf<Double>() }
        repeat(REPEATS) { r ->
            variants.rotated(r).forEach { (name, call) ->
                System.gc()
                throughput[name]!! += requestsPerSecond(call, windowNanos = 1_000_000_000L)
            }
        }
        val base = median(latency["OkHttp"]!!)
        val baseRate = median(throughput["OkHttp"]!!)
        println("| client | c=1 median latency | vs OkHttp | c=64 req/s | vs OkHttp |")
        println("|---|---:|---:|---:|---:|")
        variants.forEach { (name, _) ->
            val l = median(latency[name]!!)
            val r = median(throughput[name]!!)
            println("| $name | ${"%.0f".format(l)} µs | ${"%.2f".format(l / base)} | ${"%.0f".format(r)} | ${"%.2f".format(r / baseRate)} |")
        }
        okhttp.close()
        intercepted.close()
    }
    observable.close()
}

/** All the JVM sections, or only those named in [args] ("3" for the c=1 and c=64 rows). */
fun main(args: Array<String>) {
    // OkHttp's dispatcher threads would keep the JVM alive after a failure.
    try {
        runBenchmarks(args.toSet())
    } catch (e: Throwable) {
        e.printStackTrace()
        System.exit(1)
    }
    System.exit(0)
}

private fun runBenchmarks(only: Set<String>) {
    dev.refreshkit.ktx.RefreshKitJvm.keepCallbackThreadsAttached()
    // Tokens that outlive the run: an expiry inside a timed section would time a refresh.
    AuthServer("--access-ttl-ms", "3600000").use { server ->
        require(only.isEmpty() || only == setOf("3")) { "sections: none (all) or 3" }
        println("## 3. From Kotlin on the JVM (JDK ${System.getProperty("java.version")}, OkHttp ${okhttp3.OkHttp.VERSION})\n")
        latencyAndThroughput(server)
        if (only == setOf("3")) return
        println("\n## 9b. An idle ObservableSession's threads in the JVM\n")
        println("Signed in, one `execute` done, then nothing to do: context switches of each of the")
        println("library's threads in the JVM over that time (goal: 0), the Kotlin layer's completion")
        println("thread among them.\n")
        idleThreadRows(server)
        println("\n## 3b. From a fresh JVM to the first answer\n")
        println("A new JVM per sample (median of 5, the two clients alternating) sends one GET on loopback;")
        println("the session's store already holds the tokens, as at a returning user's launch. \"First call\"")
        println("is taken in that JVM just before the client is built (for refreshkit, before the Session")
        println("is constructed: JNA loads the library then) and ends at the first answer, a new connection")
        println("included; \"JVM launch\" is taken by the parent just before it starts the process.\n")
        firstAnswerRows(server)
        println("\n## 5b. JVM peers on the burst: OkHttp and Ktor (401 on an expired token, refresh delayed 50 ms)\n")
        println("$REPEATS runs each: refreshes are the median (max over the runs), failures are summed over the $REPEATS runs,")
        println("time is the median ratio. Ktor ${io.ktor.client.HttpClient::class.java.`package`.implementationVersion} with the CIO engine and its bearer")
        println("Auth plugin (`loadTokens`, `refreshTokens`), configured as Ktor's docs show.\n")
        println("| client | N | refreshes (goal 1) | failures | time vs valid token |")
        println("|---|---:|---:|---:|---:|")
        for (n in listOf(100, 1000)) {
            val plainClient = { authenticator: Authenticator -> OkHttpClient.Builder().dispatcher(dispatcher()).authenticator(authenticator).build() }
            peerRow("OkHttp, naive Authenticator", n, okHttpPeer(server, n) { plainClient(NaiveAuthenticator(server, it)) })
            peerRow("OkHttp, synchronized Authenticator", n, okHttpPeer(server, n) { plainClient(SynchronizedAuthenticator(server, it)) })
            peerRow("Ktor client (CIO) + bearer Auth plugin", n, ktorPeer(server, n))
            peerRow("OkHttp + RefreshKitInterceptor", n, refreshKitPeer(server, n))
        }
        if (ktorFailures.isNotEmpty()) {
            // Counted over every Ktor burst, the valid-token ones too.
            println("\nWhy Ktor's requests failed, over all its bursts (valid token too): ${ktorFailures.entries.joinToString { "${it.value} × ${it.key}" }}.")
        }
    }
}
