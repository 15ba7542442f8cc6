package dev.refreshkit.test

import dev.refreshkit.RefreshProtocol
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.Tokens
import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.net.URI
import java.net.URLDecoder
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.security.MessageDigest
import java.security.SecureRandom
import java.time.Instant
import java.util.Base64

/**
 * panva's oidc-provider (tests/oidc/provider.mjs) on Node.js as the test's other process:
 * the real, OpenID-certified provider the Rust tests (tests/all/helpers/oidc.rs) use, with
 * DPoP-bound tokens and nonces required. [close] stops it (it also exits when its stdin closes).
 */
class OidcProvider : AutoCloseable {
    private val process: Process
    val port: Int

    /** Follows no redirect: the front channel is walked by hand, with the cookies a browser keeps. */
    private val http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()

    init {
        installPackages()
        process = ProcessBuilder("node", File(scriptDir, "provider.mjs").path)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        val first = BufferedReader(InputStreamReader(process.inputStream)).readLine()
        port = first?.removePrefix("listening on 127.0.0.1:")?.trim()?.toIntOrNull()
            ?: run {
                process.destroy()
                error("oidc-provider did not start: $first")
            }
    }

    val issuer: String get() = "http://127.0.0.1:$port"

    fun url(path: String) = "$issuer$path"

    /** A session config for the provider: refresh at `/token` as the public client. */
    fun config() = SessionConfig(
        baseUrl = issuer,
        refreshPath = "/token",
        refreshProtocol = RefreshProtocol.OAuth2(clientId = CLIENT_ID, clientSecret = null, scope = null, basicAuth = false),
    )

    /** The provider's counts of its /token and /me answers, like `token refresh_token 200`. */
    fun stats(): Map<String, Long> {
        val body = send(HttpRequest.newBuilder(URI(url("/control/stats"))).build()).body()
        return Regex("\"([^\"]+)\":(\\d+)").findAll(body).associate { it.groupValues[1] to it.groupValues[2].toLong() }
    }

    /** Ends [accessToken] in the provider's store, as its lifetime would; the refresh token stays valid. */
    fun expire(accessToken: String) {
        val request = HttpRequest.newBuilder(URI(url("/control/expire")))
            .POST(HttpRequest.BodyPublishers.ofString(accessToken))
            .build()
        check(send(request).statusCode() == 204) { "the provider did not know the token" }
    }

    /**
     * An authorization code from the real authorization endpoint, through the front channel
     * a browser would take (the script's interaction logs `alice` in and consents), carrying
     * the cookies the provider sets. Bound to [codeChallenge] (PKCE, S256).
     */
    fun authorizationCode(codeChallenge: String): String {
        val query = form(
            "client_id" to CLIENT_ID,
            "response_type" to "code",
            "redirect_uri" to REDIRECT_URI,
            "scope" to "openid offline_access",
            "prompt" to "consent",
            "code_challenge" to codeChallenge,
            "code_challenge_method" to "S256",
            "state" to STATE,
        )
        var url = URI(url("/auth?$query"))
        val cookies = sortedMapOf<String, String>()
        repeat(10) {
            val request = HttpRequest.newBuilder(url).apply {
                if (cookies.isNotEmpty()) header("Cookie", cookies.entries.joinToString("; ") { "${it.key}=${it.value}" })
            }.build()
            val response = send(request)
            check(response.statusCode() == 303) { "the front channel stopped at ${url.path}: ${response.statusCode()}" }
            for (set in response.headers().allValues("set-cookie")) {
                val (name, value) = set.substringBefore(';').split('=', limit = 2)
                cookies[name] = value
            }
            url = url.resolve(response.headers().firstValue("location").orElseThrow())
            if (url.toString().startsWith(REDIRECT_URI)) {
                val params = url.rawQuery.split('&').associate {
                    val (k, v) = it.split('=', limit = 2)
                    k to URLDecoder.decode(v, Charsets.UTF_8)
                }
                check(params["state"] == STATE && params["iss"] == issuer) { "unexpected redirect: $params" }
                return params["code"] ?: error("the redirect carries no code")
            }
        }
        error("the front channel never reached the redirect URI")
    }

    /** `POST /token` for the authorization code with [dpop] as the `DPoP` header. */
    fun exchangeCode(code: String, codeVerifier: String, dpop: String?): ProofAnswer {
        val body = form(
            "grant_type" to "authorization_code",
            "code" to code,
            "redirect_uri" to REDIRECT_URI,
            "client_id" to CLIENT_ID,
            "code_verifier" to codeVerifier,
        )
        val request = HttpRequest.newBuilder(URI(url("/token")))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .apply { if (dpop != null) header("DPoP", dpop) }
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build()
        val response = send(request)
        return ProofAnswer(response.statusCode(), response.headers().firstValue("DPoP-Nonce").orElse(null), response.body())
    }

    /**
     * Signs `alice` in as an app would: the front channel, then the code exchange with the
     * session's proof, sent again with the nonce the provider asks for.
     */
    suspend fun logIn(session: Session): Tokens {
        val (verifier, challenge) = pkce()
        val code = authorizationCode(challenge)
        val tokenUrl = url("/token")
        val first = exchangeCode(code, verifier, session.dpopProof("POST", tokenUrl, null))
        check(first.status == 400 && jsonString(first.body, "error") == "use_dpop_nonce") {
            "the provider requires nonces: ${first.status} ${first.body}"
        }
        val second = exchangeCode(code, verifier, session.dpopProof("POST", tokenUrl, first.nonce))
        check(second.status == 200) { "the code exchange with the nonce failed: ${second.status} ${second.body}" }
        return second.tokens()
    }

    class ProofAnswer(val status: Int, val nonce: String?, val body: String) {
        /** The token endpoint's answer as the app signs in with it. */
        fun tokens() = Tokens(
            accessToken = jsonString(body, "access_token") ?: error("no access token"),
            refreshToken = jsonString(body, "refresh_token"),
            expiresAt = Regex("\"expires_in\":(\\d+)").find(body)?.groupValues?.get(1)?.toLong()
                ?.let { Instant.now().plusSeconds(it) },
            idToken = jsonString(body, "id_token"),
            scope = jsonString(body, "scope"),
            tokenType = jsonString(body, "token_type"),
        )
    }

    /** One retry: the JDK client may reuse a keep-alive connection the server just closed. */
    private fun send(request: HttpRequest): HttpResponse<String> =
        try {
            http.send(request, HttpResponse.BodyHandlers.ofString())
        } catch (e: java.io.IOException) {
            http.send(request, HttpResponse.BodyHandlers.ofString())
        }

    override fun close() {
        process.destroy()
        process.waitFor()
    }

    companion object {
        /** The provider's only client: public, PKCE, DPoP-bound tokens. */
        const val CLIENT_ID = "refreshkit"
        private const val REDIRECT_URI = "http://127.0.0.1/callback"
        private const val STATE = "refreshkit-state"

        /** tests/oidc; Maven runs the tests in tests/kotlin. */
        private val scriptDir: File = File(System.getProperty("user.dir"), "../oidc").canonicalFile

        private var installed = false

        /** `npm ci` once per run, when `make test` has not installed the packages yet. */
        @Synchronized
        private fun installPackages() {
            if (installed || File(scriptDir, "node_modules/oidc-provider").exists()) {
                installed = true
                return
            }
            val npm = ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--silent")
                .directory(scriptDir)
                .inheritIO()
                .start()
            check(npm.waitFor() == 0) { "`npm ci` in tests/oidc failed" }
            installed = true
        }

        /** A PKCE verifier and its S256 challenge (RFC 7636). */
        fun pkce(): Pair<String, String> {
            val b64 = Base64.getUrlEncoder().withoutPadding()
            val verifier = b64.encodeToString(ByteArray(32).also { SecureRandom().nextBytes(it) })
            val challenge = b64.encodeToString(MessageDigest.getInstance("SHA-256").digest(verifier.toByteArray()))
            return verifier to challenge
        }

        private fun form(vararg pairs: Pair<String, String>) =
            pairs.joinToString("&") { (k, v) -> "$k=${URLEncoder.encode(v, Charsets.UTF_8)}" }

        fun jsonString(json: String, name: String): String? =
            Regex("\"$name\":\"([^\"]*)\"").find(json)?.groupValues?.get(1)
    }
}
