package dev.refreshkit.test

import dev.refreshkit.RefreshLock
import dev.refreshkit.StoreException
import dev.refreshkit.TokenStore
import dev.refreshkit.Tokens
import dev.refreshkit.fileRefreshLock
import java.io.File
import java.nio.file.Files
import java.nio.file.StandardCopyOption
import java.time.Instant
import java.util.concurrent.CountDownLatch
import java.util.concurrent.atomic.AtomicInteger

/** A TokenStore written in Kotlin: one file, replaced atomically; processes sharing it refresh one at a time. */
class FileStore(private val file: File) : TokenStore {
    @Volatile var saves = 0
    private val refresh = fileRefreshLock(file.path + ".lock")

    override fun refreshLock(): RefreshLock = refresh

    override fun load(): Tokens? {
        if (!file.exists()) return null
        val lines = file.readText().split("\n")
        return Tokens(
            accessToken = lines[0],
            refreshToken = lines[1].ifEmpty { null },
            expiresAt = lines[2].toLongOrNull()?.let { Instant.ofEpochMilli(it) },
            idToken = lines.getOrNull(3)?.ifEmpty { null },
            scope = lines.getOrNull(4)?.ifEmpty { null },
            tokenType = lines.getOrNull(5)?.ifEmpty { null },
        )
    }

    @Synchronized
    override fun save(tokens: Tokens) {
        val tmp = File.createTempFile(file.name, ".tmp", file.absoluteFile.parentFile)
        tmp.writeText(listOf(tokens.accessToken, tokens.refreshToken ?: "", tokens.expiresAt?.toEpochMilli()?.toString() ?: "", tokens.idToken ?: "", tokens.scope ?: "", tokens.tokenType ?: "").joinToString("\n"))
        Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
        saves++
    }

    override fun clear() {
        file.delete()
    }
}

/** A store in memory whose calls throw what the test asks for. */
class FlakyStore(@Volatile var tokens: Tokens? = null) : TokenStore {
    @Volatile var failLoad: Throwable? = null
    @Volatile var failSave: Throwable? = null
    @Volatile var failClear: Throwable? = null

    override fun load(): Tokens? {
        failLoad?.let { throw it }
        return tokens
    }

    override fun save(tokens: Tokens) {
        failSave?.let { throw it }
        this.tokens = tokens
    }

    override fun clear() {
        failClear?.let { throw it }
        tokens = null
    }

    override fun refreshLock(): RefreshLock? = null

    companion object {
        fun locked() = StoreException.Locked()
    }
}

/** A store in memory whose `load` waits until [openLoad]: a Keystore that is slow to answer. */
class GatedStore(@Volatile var tokens: Tokens?) : TokenStore {
    private val gate = CountDownLatch(1)
    /** Loads waiting at the gate now. */
    val waiting = AtomicInteger()
    /** The threads `load` ran on. */
    val loadThreads: MutableList<Thread> = java.util.Collections.synchronizedList(mutableListOf())

    fun openLoad() = gate.countDown()

    override fun load(): Tokens? {
        loadThreads.add(Thread.currentThread())
        waiting.incrementAndGet()
        try {
            gate.await()
        } finally {
            waiting.decrementAndGet()
        }
        return tokens
    }

    override fun save(tokens: Tokens) {
        this.tokens = tokens
    }

    override fun clear() {
        tokens = null
    }

    override fun refreshLock(): RefreshLock? = null
}
