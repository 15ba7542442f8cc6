package dev.refreshkit.appauth

import java.io.File
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/**
 * OkHttp, Ktor and AppAuth are compileOnly: an app without one of them must be able to
 * load every class it uses. Only the classes of the package made for that library may
 * name it, so a missing library breaks nothing outside that package.
 */
class OptionalDependenciesTest {
    private val classes = File(System.getProperty("refreshkit.classes") ?: error("refreshkit.classes is not set"))

    private fun naming(library: String): Set<String> =
        classes.walk().filter { it.isFile && it.name.endsWith(".class") }
            .filter { String(it.readBytes(), Charsets.ISO_8859_1).contains(library) }
            .map { it.relativeTo(classes).parent.replace(File.separatorChar, '/') }
            .toSet()

    @Test fun `only dev refreshkit appauth names AppAuth, only ktor names Ktor, only okhttp names OkHttp`() {
        assertTrue("the scan found the bridge", naming("net/openid/appauth").isNotEmpty())
        assertEquals(setOf("dev/refreshkit/appauth"), naming("net/openid/appauth"))
        assertEquals(setOf("dev/refreshkit/ktor"), naming("io/ktor/"))
        assertEquals(setOf("dev/refreshkit/okhttp"), naming("okhttp3/"))
    }
}
