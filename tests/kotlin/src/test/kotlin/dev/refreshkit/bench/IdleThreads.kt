package dev.refreshkit.bench

import dev.refreshkit.HttpRequest
import dev.refreshkit.SessionConfig
import dev.refreshkit.ktx.ObservableSession
import dev.refreshkit.test.AuthServer
import dev.refreshkit.test.FlakyStore
import java.io.File
import kotlinx.coroutines.runBlocking

private const val IDLE_SECONDS = 30L

/**
 * BENCHMARKS.md §9b: an `ObservableSession` signed in, one `execute` done, then
 * [IDLE_SECONDS] with nothing to do: the context switches of each of the library's
 * threads in this JVM (its network and blocking threads, the Kotlin layer's completion
 * thread) over that time. Goal: 0. Linux only (it reads /proc/self/task).
 */
internal fun idleThreadRows(server: AuthServer) = runBlocking {
    ObservableSession(SessionConfig(baseUrl = server.baseUrl), FlakyStore()).use { session ->
        session.signIn(server.login())
        check(session.execute(HttpRequest(url = "/api/resource")).status.toInt() == 200)
        val before = libraryThreads()
        // The measured window itself: idle is what is measured, there is no event to wait for.
        Thread.sleep(IDLE_SECONDS * 1000)
        val after = libraryThreads()
        println("| thread | wake-ups in $IDLE_SECONDS s |")
        println("|---|---:|")
        before.forEach { (thread, switches) ->
            val now = after[thread]
            println("| $thread | ${if (now == null) "ended" else (now - switches).toString()} |")
        }
    }
}

/** Context switches so far of each thread whose name starts with "refreshkit", by "name (tid)". */
private fun libraryThreads(): Map<String, Long> =
    File("/proc/self/task").listFiles().orEmpty().mapNotNull { task ->
        val name = runCatching { File(task, "comm").readText().trim() }.getOrNull() ?: return@mapNotNull null
        if (!name.startsWith("refreshkit")) return@mapNotNull null
        val status = runCatching { File(task, "status").readLines() }.getOrNull() ?: return@mapNotNull null
        val switches = status.filter { it.contains("ctxt_switches") }.sumOf { it.substringAfter(':').trim().toLong() }
        "$name (${task.name})" to switches
    }.toMap().toSortedMap()
