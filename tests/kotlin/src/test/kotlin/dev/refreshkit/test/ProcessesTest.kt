package dev.refreshkit.test

import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionState
import java.io.BufferedReader
import java.io.File
import java.nio.file.Files
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * Issue 11 from Kotlin: two JVMs, each a `Session` over its own Kotlin [FileStore] on one
 * file (an Android app and its `:sync` process on one token file), burst requests right
 * after the tokens expired. Through the store's `fileRefreshLock` one refreshes and the
 * other adopts what it saved. Mirrors tests/all/processes.rs and
 * ios/Tests/RefreshKitTests/ProcessesTests.swift.
 */
class ProcessesTest {
    /** One [ProcessChild] JVM, on this test's class path and native library path. */
    private class Child(server: AuthServer, store: File) : AutoCloseable {
        private val process: Process = ProcessBuilder(
            File(System.getProperty("java.home"), "bin/java").path,
            "-Djna.library.path=${System.getProperty("jna.library.path")}",
            "-cp", System.getProperty("java.class.path"),
            "dev.refreshkit.test.ProcessChildKt",
            server.baseUrl, store.path, REQUESTS.toString(),
        ).redirectError(ProcessBuilder.Redirect.INHERIT).start()
        private val out: BufferedReader = process.inputStream.bufferedReader()

        /** The next line the process prints, waited for with a bound. */
        fun line(what: String, seconds: Long = 60): String {
            val next = CompletableFuture.supplyAsync { out.readLine() }
            return try {
                next.get(seconds, TimeUnit.SECONDS) ?: error("the process ended before $what")
            } catch (e: java.util.concurrent.TimeoutException) {
                error("no $what within $seconds s")
            }
        }

        fun go() {
            process.outputStream.write("go\n".toByteArray())
            process.outputStream.flush()
        }

        /** The summary line, with the first error's line when there was one. */
        fun outcome(): String {
            val summary = line("the summary line")
            val all = if (summary.startsWith(ALL_OK)) summary else "$summary ${runCatching { line("the first error", 5) }.getOrDefault("")}"
            check(process.waitFor(30, TimeUnit.SECONDS)) { "the process did not exit" }
            return all
        }

        override fun close() {
            if (process.isAlive) process.destroyForcibly().waitFor()
        }
    }

    @Test
    fun `two processes on one FileStore refresh once per expiry and never spend a refresh token twice`() = runBlocking {
        AuthServer().use { server ->
            val dir = Files.createTempDirectory("refreshkit-kotlin-procs").toFile()
            try {
                val path = File(dir, "tokens")
                FileStore(path).save(server.login())
                val refreshesPerRound = mutableListOf<Long>()
                val summaries = mutableListOf<String>()

                for (round in 0 until ROUNDS) {
                    server.expireAll()
                    val before = server.stat("refreshes")
                    val children = (1..2).map { Child(server, path) }
                    val outcomes = try {
                        children.forEach { assertEquals("ready", it.line("ready")) }
                        children.forEach { it.go() }
                        children.map { it.outcome() }
                    } finally {
                        children.forEach { it.close() }
                    }
                    refreshesPerRound += server.stat("refreshes") - before
                    summaries += outcomes.joinToString(" | ")
                    println("ProcessesTest round $round: ${summaries.last()}; server: ${refreshesPerRound.last()} refreshes, " +
                        "reuse_detected ${server.stat("reuse_detected")}")

                    for (outcome in outcomes) assertTrue(outcome.startsWith(ALL_OK), "round $round: $outcome")
                    assertEquals(0L, server.stat("reuse_detected"), "round $round: a refresh token was spent twice")
                    assertNotNull(FileStore(path).load(), "round $round: the store is readable")
                    assertEquals(1L, refreshesPerRound.last(), "round $round: one refresh across both processes")
                }

                println("ProcessesTest: 2 Kotlin processes x $REQUESTS requests, $ROUNDS rounds: ${refreshesPerRound.sum()} refreshes " +
                    "(per round: $refreshesPerRound), reuse_detected ${server.stat("reuse_detected")}")
                // The session the processes left behind still works from here.
                Session(SessionConfig(baseUrl = server.baseUrl), FileStore(path)).use { after ->
                    assertEquals(SessionState.ACTIVE, after.restoredState())
                    assertEquals(200.toUShort(), after.execute(HttpRequest(url = "/api/resource")).status)
                }
            } finally {
                dir.deleteRecursively()
            }
        }
    }

    private companion object {
        const val ROUNDS = 10
        const val REQUESTS = 50
        const val ALL_OK = "ok=$REQUESTS expired=0 errors=0"
    }
}
