package dev.refreshkit.bench

import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.Tokens
import dev.refreshkit.test.AuthServer
import dev.refreshkit.test.FlakyStore
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking
import okhttp3.OkHttpClient
import okhttp3.Request

private const val SAMPLES = 5

/**
 * One sample: args are the client (refreshkit or okhttp), the base URL and the tokens.
 * Prints the System.nanoTime of the first answer (CLOCK_MONOTONIC on Linux, so the
 * parent can compare it with its own) and the nanoseconds from the first call to it.
 */
fun main(args: Array<String>) {
    val (client, baseUrl, access, refresh) = args
    // The first refreshkit call: JNA loads the library while the Session is built.
    val started = System.nanoTime()
    val status = when (client) {
        "refreshkit" -> {
            val store = FlakyStore(Tokens(accessToken = access, refreshToken = refresh))
            val session = Session(SessionConfig(baseUrl = baseUrl), store)
            runBlocking { session.execute(HttpRequest(url = "/api/resource")) }.status.toInt()
        }
        else -> {
            val request = Request.Builder().url("$baseUrl/api/resource").header("Authorization", "Bearer $access").build()
            OkHttpClient().newCall(request).execute().use { it.code }
        }
    }
    val answered = System.nanoTime()
    check(status == 200) { "status $status" }
    println("$answered ${answered - started}")
    // OkHttp's and the library's threads would keep the JVM alive.
    exitProcess(0)
}

/** (launch to answer, first call to answer) in ms, for one fresh JVM running [main]. */
private fun sample(server: AuthServer, tokens: Tokens, client: String): Pair<Double, Double> {
    val java = ProcessHandle.current().info().command().get()
    val command = listOf(
        java, "-Djna.library.path=${System.getProperty("jna.library.path")}", "-cp", System.getProperty("java.class.path"),
        "dev.refreshkit.bench.FirstAnswerKt", client, server.baseUrl, tokens.accessToken, tokens.refreshToken!!,
    )
    val launched = System.nanoTime()
    val process = ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start()
    val line = process.inputStream.bufferedReader().readLine() ?: error("the first-answer JVM printed nothing")
    check(process.waitFor() == 0) { "the first-answer JVM failed" }
    val (answered, fromFirstCall) = line.split(" ").map { it.toLong() }
    return (answered - launched) / 1e6 to fromFirstCall / 1e6
}

/**
 * Section 3b: the time to the first answer in a fresh JVM, one JVM per sample running
 * [main], which signs nobody in: its store already holds the tokens, as at an app's
 * launch for a returning user. Prints the table's rows.
 */
internal fun firstAnswerRows(server: AuthServer) {
    val tokens = server.login()
    val clients = listOf("refreshkit" to "Session.execute (JNA loads the library at the first call)", "okhttp" to "OkHttp")
    val samples = clients.associate { it.first to mutableListOf<Pair<Double, Double>>() }
    // Alternating, so a slow moment of the machine falls on both.
    repeat(SAMPLES) { clients.forEach { (client, _) -> samples[client]!! += sample(server, tokens, client) } }
    println("| client | first call to first answer | JVM launch to first answer |")
    println("|---|---:|---:|")
    clients.forEach { (client, name) ->
        val xs = samples[client]!!
        println("| $name | ${"%.1f".format(median(xs.map { it.second }))} ms | ${"%.0f".format(median(xs.map { it.first }))} ms |")
    }
}
