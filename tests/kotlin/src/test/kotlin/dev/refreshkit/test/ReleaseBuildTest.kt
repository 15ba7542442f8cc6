package dev.refreshkit.test

import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import java.util.jar.JarEntry
import java.util.jar.JarOutputStream
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * A release build of an app without OkHttp, as R8 makes it with nothing but the
 * library's consumer-rules.pro and a keep rule for the app's entry point; then the
 * shrunk jar is run on the JVM and makes real calls through JNA.
 *
 * The Android-only classes (dev.refreshkit.android) are left out: they need the Android
 * framework as a library, which R8 cannot have here beside the JDK.
 */
class ReleaseBuildTest {
    private val work = Files.createTempDirectory("refreshkit-r8").toFile()

    @AfterEach
    fun clean() {
        work.deleteRecursively()
    }

    @Test
    fun `R8 with only the consumer rules keeps what JNA and the bindings need`() {
        val input = File(work, "app.jar")
        JarOutputStream(input.outputStream()).use { jar ->
            addClasses(jar, File(property("refreshkit.classes"))) { !it.startsWith("dev/refreshkit/android/") }
            addClasses(jar, File(property("refreshkit.testClasses"))) { it.startsWith("dev/refreshkit/test/r8/") }
        }
        val appRules = File(work, "app-rules.pro").apply {
            writeText("-keep class dev.refreshkit.test.r8.ShrinkApp { public static void main(java.lang.String[]); }\n")
        }
        val shrunk = File(work, "shrunk.jar")
        val r8 = run(
            java(), "-cp", property("refreshkit.r8"), "com.android.tools.r8.R8",
            "--release", "--classfile", "--lib", System.getProperty("java.home"),
            "--pg-conf", property("refreshkit.consumerRules"), "--pg-conf", appRules.path,
            "--output", shrunk.path, input.path, *property("refreshkit.appJars").split(",").toTypedArray(),
        )
        assertEquals(0, r8.first, "R8 failed:\n${r8.second}")

        val app = run(
            java(), "-cp", shrunk.path, "-Djna.library.path=${File(System.getProperty("jna.library.path")).path}",
            "dev.refreshkit.test.r8.ShrinkApp",
        )
        assertEquals(0, app.first, "the shrunk app failed:\n${app.second}")
        assertTrue(app.second.contains("shrunk app: ACTIVE authorization saves=1"), app.second)
        assertTrue(app.second.contains("shrunk door: InvalidRequest SIGNED_OUT"), app.second)
    }

    private fun addClasses(jar: JarOutputStream, root: File, take: (String) -> Boolean) {
        root.walkTopDown().filter { it.isFile && it.name.endsWith(".class") }.forEach { file ->
            val name = file.relativeTo(root).invariantSeparatorsPath
            if (take(name)) {
                jar.putNextEntry(JarEntry(name))
                file.inputStream().use { it.copyTo(jar) }
                jar.closeEntry()
            }
        }
    }

    private fun property(name: String): String = System.getProperty(name) ?: error("system property $name is not set")

    private fun java(): String = File(System.getProperty("java.home"), "bin/java").path

    /** Exit code and output (both streams) of a child process, bounded. */
    private fun run(vararg command: String): Pair<Int, String> {
        val log = File(work, "out-${System.nanoTime()}.txt")
        val process = ProcessBuilder(*command).redirectErrorStream(true).redirectOutput(log).start()
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly()
            error("${command.last()} did not finish in 5 minutes")
        }
        return process.exitValue() to log.readText()
    }
}
