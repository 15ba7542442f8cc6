package dev.refreshkit.android

import java.io.File
import java.io.FileNotFoundException
import java.io.FileOutputStream
import java.io.IOException
import java.io.RandomAccessFile

/**
 * One file replaced atomically, and [lockFile]'s lock, shared by every instance and
 * process of the app. Unlike `AtomicFile.finishWrite`, which logs and returns
 * when sync, close or rename fails, [write] throws, so a save that did not happen is
 * never reported as done.
 */
internal class TokenFile(private val file: File, private val lockFile: File) {
    /** The contents, or null when there is no file. */
    fun read(): ByteArray? {
        // Earlier versions wrote through AtomicFile, which keeps the last good file as
        // `.bak` while it writes: after a crash mid-write, that one holds the tokens.
        val backup = File(file.path + ".bak")
        if (backup.exists() && !backup.renameTo(file)) throw IOException("restore failed")
        return try {
            file.readBytes()
        } catch (e: FileNotFoundException) {
            null
        }
    }

    /** Writes to a file of its own, syncs it, renames it over [file] and reads it back. */
    fun write(bytes: ByteArray) {
        val dir = file.absoluteFile.parentFile ?: throw IOException("no folder")
        dir.mkdirs()
        val tmp = File.createTempFile(file.name, ".new", dir)
        try {
            FileOutputStream(tmp).use { out ->
                out.write(bytes)
                out.fd.sync()
            }
            if (!tmp.renameTo(file)) throw IOException("rename failed")
            if (!file.readBytes().contentEquals(bytes)) throw IOException("read back differs")
        } finally {
            tmp.delete()
        }
    }

    fun delete() {
        if (!file.delete() && file.exists()) throw IOException("delete failed")
    }

    /**
     * Runs [block] holding the lock: a monitor for the threads of this process (file locks
     * are per process) and a lock on [lockFile] for other processes.
     */
    fun <T> locked(block: () -> T): T = synchronized(monitorFor(lockFile)) {
        lockFile.absoluteFile.parentFile?.mkdirs()
        RandomAccessFile(lockFile, "rw").use { raf -> raf.channel.lock().use { block() } }
    }

    private companion object {
        val monitors = HashMap<String, Any>()

        fun monitorFor(file: File): Any = synchronized(monitors) { monitors.getOrPut(file.absolutePath) { Any() } }
    }
}
