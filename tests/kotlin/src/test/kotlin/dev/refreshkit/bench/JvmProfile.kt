package dev.refreshkit.bench

import dev.refreshkit.HttpRequest
import dev.refreshkit.SessionConfig
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.okhttp.addRefreshKit
import dev.refreshkit.test.AuthServer
import dev.refreshkit.test.FlakyStore
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import okhttp3.ConnectionPool
import okhttp3.Dispatcher
import okhttp3.OkHttpClient
import okhttp3.Request

/**
 * The c=64 throughput loop of JvmBench, for a profiler (JFR, perf) and for telling apart
 * what JvmBench's side-by-side windows measure: `JvmProfileKt VARIANT SECONDS`, VARIANT one
 * of okhttp, execute, blocking, observable, interceptor, runs it alone and prints the rate
 * every second; VARIANT a list (`okhttp,observable`) runs one-second windows of each in
 * turn after a warm-up, as JvmBench does, SECONDS rounds of them.
 */
fun main(args: Array<String>) {
    val variant = args.getOrElse(0) { "execute" }
    val seconds = args.getOrElse(1) { "10" }.toInt()
    dev.refreshkit.ktx.RefreshKitJvm.keepCallbackThreadsAttached()
    AuthServer("--access-ttl-ms", "3600000").use { server ->
        val login = server.login()
        val observable = ObservableSession(SessionConfig(baseUrl = server.baseUrl), FlakyStore())
        runBlocking { observable.signIn(login) }
        val session = observable.session
        val pooled = { OkHttpClient.Builder().dispatcher(Dispatcher().apply { maxRequests = 64; maxRequestsPerHost = 64 }).connectionPool(ConnectionPool(64, 5, TimeUnit.MINUTES)) }
        val okhttp = pooled().build()
        val intercepted = pooled().addRefreshKit(session).build()
        val url = "${server.baseUrl}/api/resource"
        val calls: Map<String, suspend () -> Int> = mapOf(
            "okhttp" to { okhttp.newCall(Request.Builder().url(url).header("Authorization", "Bearer ${login.accessToken}").build()).execute().use { it.body!!.bytes().size } },
            "observable" to { observable.execute(HttpRequest(url = "/api/resource")).body.size },
            "interceptor" to { intercepted.newCall(Request.Builder().url(url).build()).execute().use { it.body!!.bytes().size } },
            "execute" to { session.execute(HttpRequest(url = "/api/resource")).body.size },
            "blocking" to { session.executeBlocking(HttpRequest(url = "/api/resource")).body.size },
        )
        if (variant.contains(",")) {
            // Windows of one second, the variants in turn, as JvmBench runs them.
            val names = variant.split(",")
            runBlocking { repeat(2000) { names.forEach { calls.getValue(it)() } } }
            repeat(seconds) {
                for (name in names) {
                    System.gc()
                    println("$name ${"%.0f".format(requestsPerSecond(calls.getValue(name), 1_000_000_000L))} req/s")
                }
            }
            observable.close()
            return@use
        }
        val call = calls[variant] ?: error("unknown variant $variant")
        repeat(seconds) { println("$variant ${"%.0f".format(requestsPerSecond(call, 1_000_000_000L))} req/s") }
        observable.close()
    }
    System.exit(0)
}
