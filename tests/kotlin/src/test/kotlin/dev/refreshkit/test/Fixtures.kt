package dev.refreshkit.test

import dev.refreshkit.BodyRule
import dev.refreshkit.RefreshProtocol
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionEvent
import dev.refreshkit.SessionListener
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout

/** Records events in the order the session delivered them. */
class Recorder : SessionListener {
    val events = CopyOnWriteArrayList<SessionEvent>()

    override fun onEvent(event: SessionEvent) {
        events.add(event)
    }

    /** Waits (bounded) until [done] holds. */
    suspend fun awaitUntil(done: (List<SessionEvent>) -> Boolean): List<SessionEvent> =
        withTimeout(10_000) {
            while (!done(events.toList())) delay(10)
            events.toList()
        }
}

/** The JavaScript recipe's protocol, by configuration alone. */
fun recipeConfig(baseUrl: String) = SessionConfig(
    baseUrl = baseUrl,
    refreshPath = "/app/renewal",
    expiredStatuses = emptyList(),
    expiredBodyRule = BodyRule(pointer = "/code", values = listOf("1002")),
    refreshProtocol = RefreshProtocol.Json(
        refreshTokenField = "refreshToken",
        extraFields = mapOf("authorization" to "demo-client-credential"),
        accessTokenPointer = "/data/token",
        refreshTokenPointer = "/data/refreshToken",
        expiresInPointer = null,
    ),
)

/**
 * [waitUntil] for a coroutine whose thread must stay free meanwhile (a `runBlocking` loop
 * the awaited work resumes on).
 */
suspend fun awaitUntil(what: String, timeoutMs: Long = 10_000, done: () -> Boolean) {
    val deadline = System.nanoTime() + timeoutMs * 1_000_000
    while (!done()) {
        check(System.nanoTime() < deadline) { "never happened within $timeoutMs ms: $what" }
        kotlinx.coroutines.delay(5)
    }
}

/** Waits (bounded) until [done] holds; fails the test when it never does. */
fun waitUntil(what: String, timeoutMs: Long = 10_000, done: () -> Boolean) {
    val deadline = System.nanoTime() + timeoutMs * 1_000_000
    while (!done()) {
        check(System.nanoTime() < deadline) { "never happened within $timeoutMs ms: $what" }
        Thread.sleep(5)
    }
}
