package dev.refreshkit.okhttp

import dev.refreshkit.SessionException
import dev.refreshkit.SessionInterface
import dev.refreshkit.TokenLease
import dev.refreshkit.ktx.RefreshKitJvm
import java.io.IOException
import okhttp3.Interceptor
import okhttp3.Request
import okhttp3.Response

/**
 * Adds the session's access token to OkHttp (and Retrofit) requests for [tokenHosts],
 * and on a 401 asks the session for a newer token and retries once.
 *
 * One interceptor does both jobs, so there is no Authenticator to synchronise. The
 * waiting happens in refreshkit's own runtime, never on OkHttp's dispatcher, so a pool
 * full of waiting calls cannot starve the refresh (OkHttp #6747, Retrofit #3587), and
 * twenty 401s for one token still make one refresh.
 *
 * Failures reach OkHttp as [RefreshKitIOException], an [IOException], because anything
 * else thrown from an interceptor crashes an asynchronous call's thread.
 */
class RefreshKitInterceptor(
    private val session: SessionInterface,
    tokenHosts: Set<String>,
    private val headerName: String = "Authorization",
    private val scheme: String = "Bearer",
) : Interceptor {
    private val hosts = tokenHosts.map { it.lowercase() }.toSet()

    /** The last lease, reused while the session says its token is still the one to send. */
    @Volatile
    private var lease: TokenLease? = null

    init {
        RefreshKitJvm.keepCallbackThreadsAttached()
    }

    override fun intercept(chain: Interceptor.Chain): Response {
        val request = chain.request()
        if (request.url.host.lowercase() !in hosts) {
            return chain.proceed(request.newBuilder().removeHeader(headerName).build())
        }
        val token = currentToken()
        val response = chain.proceed(request.withToken(token))
        if (response.code != 401 || request.body?.isOneShot() == true) {
            return response
        }
        response.close()
        val fresh = awaitSession { session.refreshAfterUnauthorizedBlocking(token) }
        return chain.proceed(request.withToken(fresh))
    }

    private fun currentToken(): String {
        lease?.let { if (LeaseCheck.isCurrent(it)) return it.accessToken }
        return awaitSession { session.accessTokenLeaseBlocking() }.also { lease = it }.accessToken
    }

    private fun Request.withToken(token: String): Request =
        newBuilder().header(headerName, if (scheme.isEmpty()) token else "$scheme $token").build()

    /**
     * Blocks this OkHttp thread (bounded by the session's timeouts) while refreshkit works:
     * interceptors run on threads made to block, and the blocking calls cross the FFI once.
     */
    private fun <T> awaitSession(call: () -> T): T =
        try {
            call()
        } catch (e: SessionException) {
            throw RefreshKitIOException(e)
        } catch (e: Exception) {
            // A closed session or a bindings failure: still an IOException for OkHttp.
            throw IOException("refreshkit: ${e::class.simpleName}", e)
        }
}

/** The session could not provide a token; [reason] says why (for example, expired). */
class RefreshKitIOException(val reason: SessionException) :
    IOException("refreshkit: ${reason::class.simpleName}", reason)
