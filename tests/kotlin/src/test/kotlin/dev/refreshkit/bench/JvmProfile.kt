package dev.refreshkit.bench

import dev.refreshkit.HttpRequest
import dev.refreshkit.SessionConfig
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.okhttp.addRefreshKit
import dev.refreshkit.test.AuthServer
import dev.refreshkit.test.FlakyStore
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicLong
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
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
                    println("$name ${"%.0f".format(rate(calls.getValue(name)))} req/s")
                }
            }
            observable.close()
            return@use
        }
        val call: suspend () -> Int = when (variant) {
            "okhttp" -> { { okhttp.newCall(Request.Builder().url(url).header("Authorization", "Bearer ${login.accessToken}").build()).execute().use { it.body!!.bytes().size } } }
            "interceptor" -> { { intercepted.newCall(Request.Builder().url(url).build()).execute().use { it.body!!.bytes().size } } }
            "execute" -> { { session.execute(HttpRequest(url = "/api/resource")).body.size } }
            "blocking" -> { { session.executeBlocking(HttpRequest(url = "/api/resource")).body.size } }
            "observable" -> { { observable.execute(HttpRequest(url = "/api/resource")).body.size } }
            else -> error("unknown variant $variant")
        }
        runBlocking {
            withContext(Dispatchers.IO) {
                repeat(seconds) {
                    val count = AtomicLong()
                    val started = System.nanoTime()
                    val deadline = started + 1_000_000_000L
                    (1..64).map { async { while (System.nanoTime() < deadline) { call(); count.incrementAndGet() } } }.awaitAll()
                    println("$variant ${"%.0f".format(count.get() * 1e9 / (System.nanoTime() - started))} req/s")
                }
            }
        }
        observable.close()
    }
    System.exit(0)
}

private fun rate(call: suspend () -> Int): Double = runBlocking {
    withContext(Dispatchers.IO) {
        val count = AtomicLong()
        val started = System.nanoTime()
        val deadline = started + 1_000_000_000L
        (1..64).map { async { while (System.nanoTime() < deadline) { call(); count.incrementAndGet() } } }.awaitAll()
        count.get() * 1e9 / (System.nanoTime() - started)
    }
}
