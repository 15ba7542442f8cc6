package dev.refreshkit.bench

import dev.refreshkit.test.AuthServer
import io.ktor.client.HttpClient
import io.ktor.client.engine.cio.CIO
import io.ktor.client.plugins.auth.Auth
import io.ktor.client.plugins.auth.providers.BearerTokens
import io.ktor.client.plugins.auth.providers.bearer
import io.ktor.client.request.forms.submitForm
import io.ktor.client.request.get
import io.ktor.client.statement.bodyAsText
import io.ktor.http.isSuccess
import io.ktor.http.parameters
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking

/**
 * Ktor's client (CIO engine) with its bearer Auth plugin, configured as Ktor's docs show:
 * `loadTokens` from where the app keeps them, `refreshTokens` posting the refresh token
 * and keeping the answer. Section 5b runs it on the same burst as the OkHttp peers.
 */
internal fun ktorClient(server: AuthServer, holder: TokenHolder) = HttpClient(CIO) {
    install(Auth) {
        bearer {
            loadTokens { BearerTokens(holder.access, holder.refresh) }
            refreshTokens {
                val answer = client.submitForm(
                    url = "${server.baseUrl}/oauth/token",
                    formParameters = parameters {
                        append("grant_type", "refresh_token")
                        append("refresh_token", oldTokens?.refreshToken ?: holder.refresh)
                    },
                ) { markAsRefreshTokenRequest() }
                if (!answer.status.isSuccess()) return@refreshTokens null
                val body = answer.bodyAsText()
                holder.access = Regex("\"access_token\":\"([^\"]+)\"").find(body)!!.groupValues[1]
                holder.refresh = Regex("\"refresh_token\":\"([^\"]+)\"").find(body)!!.groupValues[1]
                BearerTokens(holder.access, holder.refresh)
            }
        }
    }
}

/** Why Ktor's requests failed in the bursts so far ("status 401", an exception's class), and how often. */
internal val ktorFailures = ConcurrentHashMap<String, Int>()

/** n concurrent GETs, one coroutine each, as a Ktor app would launch them. */
internal fun ktorBurst(server: AuthServer, client: HttpClient, n: Int): BurstResult = runBlocking(Dispatchers.Default) {
    val before = server.stat("refreshes")
    val started = System.nanoTime()
    val failures = (1..n).map {
        async {
            val failure = try {
                client.get("${server.baseUrl}/api/resource").status.value.takeIf { it != 200 }?.let { "status $it" }
            } catch (e: Exception) {
                e::class.simpleName
            }
            failure?.also { ktorFailures.merge(it, 1, Int::plus) }
        }
    }.awaitAll().count { it != null }
    BurstResult((System.nanoTime() - started) / 1e6, failures, server.stat("refreshes") - before)
}
