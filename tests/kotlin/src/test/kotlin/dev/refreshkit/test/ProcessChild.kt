package dev.refreshkit.test

import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.ktx.RefreshKitJvm
import java.io.File
import kotlin.system.exitProcess
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking

/**
 * A separate JVM running a session over a Kotlin [FileStore], for [ProcessesTest]: the
 * Kotlin twin of tests/session-child.
 *
 * Usage: ProcessChildKt BASE_URL STORE_PATH REQUESTS. Reads the store, prints `ready`,
 * waits for a line on stdin (so every process starts together), sends REQUESTS concurrent
 * requests and prints `ok=N expired=N errors=N refreshes=N` and, after errors, the first
 * one's text (the core's error text, which carries no token).
 */
fun main(args: Array<String>) {
    val (baseUrl, path, count) = args
    RefreshKitJvm.keepCallbackThreadsAttached()
    runBlocking {
        Session(SessionConfig(baseUrl = baseUrl), FileStore(File(path))).use { session ->
            session.restoredState()
            println("ready")
            System.out.flush()
            readlnOrNull()
            val outcomes = (1..count.toInt()).map {
                async(Dispatchers.IO) { runCatching { session.execute(HttpRequest(url = "/api/resource")) } }
            }.awaitAll()
            val ok = outcomes.count { it.getOrNull()?.status?.toInt() == 200 }
            val expired = outcomes.count { it.exceptionOrNull() is SessionException.SessionExpired }
            val errors = outcomes.size - ok - expired
            println("ok=$ok expired=$expired errors=$errors refreshes=${session.metrics().refreshes}")
            val firstError = outcomes.firstNotNullOfOrNull { outcome ->
                outcome.fold(
                    { if (it.status.toInt() == 200) null else "status ${it.status}" },
                    { if (it is SessionException.SessionExpired) null else it.toString() },
                )
            }
            firstError?.let { println("first error: $it") }
            System.out.flush()
        }
    }
    exitProcess(0)
}
