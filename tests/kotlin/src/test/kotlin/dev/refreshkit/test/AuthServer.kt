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

    /** The login endpoint's answer as received: an OAuth token response's JSON. */
    fun loginAnswer(): String = post("/login", "{}")

    /** POSTs to [path] with a `DPoP` proof header: the status, the `DPoP-Nonce` answered, the body. */
    fun postWithProof(path: String, proof: String): ProofAnswer {
        val request = HttpRequest.newBuilder(URI("$baseUrl$path"))
            .header("DPoP", proof)
            .POST(HttpRequest.BodyPublishers.noBody())
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        return ProofAnswer(response.statusCode(), response.headers().firstValue("DPoP-Nonce").orElse(null), response.body())
    }

    /**
     * Logs in with tokens bound to a DPoP key: [proof] makes the login call's proof, once
     * more with the nonce the server answers a `use_dpop_nonce` with.
     */
    suspend fun loginWithProof(proof: suspend (nonce: String?) -> String): Tokens {
        var nonce: String? = null
        repeat(2) {
            val answer = postWithProof("/login", proof(nonce))
            if (answer.status == 200) return answer.tokens()
            check("use_dpop_nonce" in answer.body) { "the login proof was refused: ${answer.body}" }
            nonce = answer.nonce
        }
        error("the login needed more than one nonce")
    }

    class ProofAnswer(val status: Int, val nonce: String?, val body: String) {
        /** The tokens of a 200 from `/login`, with their type ("DPoP" when bound to the key). */
        fun tokens() = Tokens(
            accessToken = field(body, "access_token"),
            refreshToken = field(body, "refresh_token"),
            tokenType = field(body, "token_type"),
        )
    }

    fun stat(name: String): Long {
        val body = send(HttpRequest.newBuilder(URI("$baseUrl/control/stats")).build())
        return Regex("\"$name\":(\\d+)").find(body)?.groupValues?.get(1)?.toLong() ?: error("no stat $name in the server's stats")
    }

    fun expireAll() {
        post("/control/expire-all", "{}")
    }

    /** The next DPoP proofs need a new nonce (`--dpop-nonce`). */
    fun rotateNonce() {
        post("/control/dpop-rotate-nonce", "{}")
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


    override fun close() {
        process.destroy()
        process.waitFor()
    }
}

private fun field(json: String, name: String): String =
    Regex("\"$name\":\"([^\"]+)\"").find(json)?.groupValues?.get(1) ?: error("no $name in answer")
