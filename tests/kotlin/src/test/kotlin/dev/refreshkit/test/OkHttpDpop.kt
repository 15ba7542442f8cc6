package dev.refreshkit.test

import dev.refreshkit.DpopKey
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.okhttp.addRefreshKit
import dev.refreshkit.softwareDpopKey
import java.io.IOException
import java.util.Base64
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import okhttp3.Call
import okhttp3.Callback
import okhttp3.Dispatcher
import okhttp3.MediaType.Companion.toMediaType
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.RequestBody.Companion.toRequestBody
import okhttp3.Response

// What the OkHttp tests with DPoP-bound tokens share.

/** A session with a DPoP key, signed in with tokens the server bound to it. */
suspend fun boundSession(server: AuthServer, key: DpopKey = softwareDpopKey()): Session {
    val session = Session.withDpop(SessionConfig(baseUrl = server.baseUrl), FlakyStore(), key)
    val tokens = server.loginWithProof { nonce -> session.dpopProof("POST", "${server.baseUrl}/login", nonce) }
    check(tokens.tokenType == "DPoP") { "the server did not bind the tokens" }
    session.signIn(tokens)
    return session
}

fun dpopClient(session: Session, builder: OkHttpClient.Builder = OkHttpClient.Builder()): OkHttpClient = builder
    .dispatcher(Dispatcher().apply { maxRequests = 200; maxRequestsPerHost = 200 })
    .addRefreshKit(session)
    .build()

fun json(text: String) = text.toRequestBody("application/json".toMediaType())

fun OkHttpClient.code(request: Request): Int = newCall(request).execute().use { it.code }

/** The headers `/echo` received, by lower-case name. */
fun OkHttpClient.echoedHeaders(url: String): Map<String, String> {
    val body = newCall(Request.Builder().url(url).build()).execute().use { it.body!!.string() }
    return Regex("\"([^\"]+)\":\"([^\"]*)\"").findAll(body).associate { it.groupValues[1] to it.groupValues[2] }
}

/** The proof's `htm` and `htu`, as "GET http://host/path". */
fun proofClaims(proof: String): String {
    val claims = String(Base64.getUrlDecoder().decode(proof.split('.')[1]))
    fun claim(name: String) = Regex("\"$name\":\"([^\"]*)\"").find(claims)?.groupValues?.get(1) ?: error("no $name in the proof")
    return "${claim("htm")} ${claim("htu")}"
}

/** Sends [requests] at once, each on its own dispatcher thread; their status codes (-1 for a failure), in order of arrival. */
fun OkHttpClient.codesOf(requests: List<Request>): List<Int> {
    val done = CountDownLatch(requests.size)
    val codes = ConcurrentLinkedQueue<Int>()
    for (request in requests) {
        newCall(request).enqueue(object : Callback {
            override fun onFailure(call: Call, e: IOException) {
                codes.add(-1)
                done.countDown()
            }

            override fun onResponse(call: Call, response: Response) {
                response.use { codes.add(it.code) }
                done.countDown()
            }
        })
    }
    check(done.await(60, TimeUnit.SECONDS)) { "calls hung" }
    return codes.toList()
}
