package dev.refreshkit.test.r8

import dev.refreshkit.HttpRequest
import dev.refreshkit.RefreshLock
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.TokenStore
import dev.refreshkit.Tokens
import dev.refreshkit.ktx.ObservableSession
import kotlinx.coroutines.runBlocking

/**
 * The tiny app ReleaseBuildTest shrinks with R8 together with the library: no OkHttp,
 * only the library's consumer rules and a keep rule for [main]. One real call of each
 * kind: a constructor, a callback into a Kotlin store, an async call, a plain method,
 * and ObservableSession's direct C calls (ktx/EncodedCalls.kt), whose names JNA binds:
 * a request that fails before the network comes back as its typed error.
 */
object ShrinkApp {
    @JvmStatic
    fun main(args: Array<String>) {
        val store = MemoryStore()
        Session(SessionConfig(baseUrl = "https://api.example.com"), store).use { session ->
            runBlocking { session.signIn(Tokens(accessToken = "a", refreshToken = "r", expiresAt = null)) }
            val header = session.tokenHeaderFor("https://api.example.com/me", "a")?.name
            println("shrunk app: ${session.state()} ${header} saves=${store.saves}")
        }
        ObservableSession(SessionConfig(baseUrl = "https://api.example.com"), MemoryStore()).use { observable ->
            val answer = runCatching { runBlocking { observable.execute(HttpRequest(url = "http://[bad")) } }
            val typed = answer.exceptionOrNull() is SessionException.InvalidRequest
            println("shrunk door: ${if (typed) "InvalidRequest" else answer} ${observable.state.value}")
        }
    }
}

private class MemoryStore : TokenStore {
    @Volatile var tokens: Tokens? = null
    @Volatile var saves = 0

    override fun load(): Tokens? = tokens

    override fun save(tokens: Tokens) {
        this.tokens = tokens
        saves++
    }

    override fun clear() {
        tokens = null
    }

    override fun refreshLock(): RefreshLock? = null
}
