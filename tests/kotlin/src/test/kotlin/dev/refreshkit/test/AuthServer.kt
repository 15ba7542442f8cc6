package dev.refreshkit.test

import dev.refreshkit.Tokens
import java.io.BufferedReader
import java.io.InputStreamReader
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse

/** The local auth server process on a free loopback port; [close] stops it. */
class AuthServer(vararg args: String) : AutoCloseable {
    private val process: Process
    val port: Int
    private val http = HttpClient.newHttpClient()

    init {
        val binary = System.getProperty("refreshkit.authServer")
            ?: error("system property refreshkit.authServer is not set")
        process = ProcessBuilder(listOf(binary, "--port", "0", "--exit-on-stdin-eof") + args)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        val first = BufferedReader(InputStreamReader(process.inputStream)).readLine()
            ?: error("auth-server printed nothing")
        port = first.substringAfterLast(':').trim().toInt()
    }

    val baseUrl: String get() = "http://127.0.0.1:$port"

    fun login(): Tokens {
        val body = post("/login", "{}")
        return Tokens(accessToken = field(body, "access_token"), refreshToken = field(body, "refresh_token"))
    }

    fun stat(name: String): Long {
        val body = send(HttpRequest.newBuilder(URI("$baseUrl/control/stats")).build())
        return Regex("\"$name\":(\\d+)").find(body)?.groupValues?.get(1)?.toLong() ?: error("no stat $name in the server's stats")
    }

    fun expireAll() {
        post("/control/expire-all", "{}")
    }

    fun fault(json: String) {
        post("/control/fault", json)
    }

    /** Clears the counters and any queued fault. */
    fun reset() {
        post("/control/reset", "{}")
    }

    /** The bearer tokens `/held` received, in order. Compare them, never print them. */
    fun heldSeen(): List<String> {
        val body = send(HttpRequest.newBuilder(URI("$baseUrl/control/stats")).build())
        val list = Regex("\"held_seen\":\\[([^\\]]*)\\]").find(body)?.groupValues?.get(1) ?: error("no held_seen in stats")
        return Regex("\"([^\"]*)\"").findAll(list).map { it.groupValues[1] }.toList()
    }

    /** Lets the requests held at `/held` go on (each then answers like `/api/resource`). */
    fun releaseHeld() {
        post("/control/release-held", "{}")
    }

    /** Opens a gated fault. */
    fun release() {
        post("/control/release", "{}")
    }

    private fun post(path: String, json: String): String {
        val request = HttpRequest.newBuilder(URI("$baseUrl$path"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build()
        return send(request)
    }

    /** One retry: the JDK client may reuse a keep-alive connection the server just closed. */
    private fun send(request: HttpRequest): String =
        try {
            http.send(request, HttpResponse.BodyHandlers.ofString()).body()
        } catch (e: java.io.IOException) {
            http.send(request, HttpResponse.BodyHandlers.ofString()).body()
        }

    private fun field(json: String, name: String): String =
        Regex("\"$name\":\"([^\"]+)\"").find(json)?.groupValues?.get(1) ?: error("no $name in answer")

    override fun close() {
        process.destroy()
        process.waitFor()
    }
}
