package dev.refreshkit.okhttp

import okio.Buffer
import okio.BufferedSource

/**
 * Reads [source] (a peek of a response body) as its bytes arrive, until the first JSON
 * value in it is complete, the body ends, or [max] bytes: enough for a body rule, and
 * never a wait for the rest of a stream. Each read returns what has arrived, so the first
 * event of a slow stream is not held up until 64 KiB or the end come.
 */
internal fun firstJsonValue(source: BufferedSource, max: Long): ByteArray {
    val read = Buffer()
    val scan = JsonEnd()
    while (read.size < max) {
        val start = read.size
        if (source.read(read, minOf(8192L, max - read.size)) == -1L) break
        if (scan.endsWithin(read, start, read.size)) break
    }
    return read.readByteArray()
}

/** Finds where the first object, array or string of a JSON text ends, fed in pieces. */
private class JsonEnd {
    private var depth = 0
    private var inString = false
    private var escaped = false

    fun endsWithin(buffer: Buffer, from: Long, to: Long): Boolean {
        for (i in from until to) {
            val c = buffer[i].toInt().toChar()
            if (inString) {
                when {
                    escaped -> escaped = false
                    c == '\\' -> escaped = true
                    c == '"' -> {
                        inString = false
                        if (depth == 0) return true
                    }
                }
                continue
            }
            when (c) {
                '{', '[' -> depth++
                '}', ']' -> if (--depth <= 0) return true
                '"' -> inString = true
            }
        }
        return false
    }
}
