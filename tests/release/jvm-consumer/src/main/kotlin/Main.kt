// Runs the README's "Kotlin on the JVM" quick start (target/readme, extracted from the
// README as written) the way an app would, against the auth server whose path is the
// first argument, with the release's jar as the only refreshkit on the class path.
// Exits non-zero, saying what went wrong, on any failure; `check` failures throw.
import java.io.File
import dev.refreshkit.HttpRequest
import dev.refreshkit.Tokens
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest as JdkRequest
import java.net.http.HttpResponse as JdkResponse

private val http = HttpClient.newHttpClient()

private fun call(url: String, method: String = "GET"): String {
    val request = JdkRequest.newBuilder(URI(url)).method(method, JdkRequest.BodyPublishers.ofString("{}"))
        .header("Content-Type", "application/json").build()
    return http.send(request, JdkResponse.BodyHandlers.ofString()).body()
}

private fun field(json: String, name: String): String =
    Regex("\"$name\":\"([^\"]*)\"").find(json)?.groupValues?.get(1) ?: error("no $name in $json")

private fun stat(baseUrl: String, name: String): Long =
    Regex("\"$name\":(\\d+)").find(call("$baseUrl/control/stats"))!!.groupValues[1].toLong()

fun main(args: Array<String>) {
    val server = ProcessBuilder(args[0], "--port", "0", "--exit-on-stdin-eof")
        .redirectError(ProcessBuilder.Redirect.INHERIT).start()
    val baseUrl = "http://127.0.0.1:" + server.inputStream.bufferedReader().readLine().substringAfterLast(':').trim()
    try {
        runBlocking {
            val login = call("$baseUrl/login", "POST")
            val tokens = Tokens(accessToken = field(login, "access_token"), refreshToken = field(login, "refresh_token"))

            // 1. The quick start as written: one request with the signed-in tokens.
            val first = showMe(baseUrl, "/api/resource", tokens)
            check(first.status.toInt() == 200) { "the quick start's request answered ${first.status}" }

            // 2. Its store and session across an expiry: twenty requests, one refresh.
            val store = MemoryTokenStore()
            openSession(baseUrl, store).use { session ->
                session.signIn(tokens)
                call("$baseUrl/control/expire-all", "POST")
                val before = stat(baseUrl, "refreshes")
                val answers = (1..20).map { async { session.execute(HttpRequest(url = "/api/resource")) } }.awaitAll()
                check(answers.all { it.status.toInt() == 200 }) { "statuses after the expiry: ${answers.map { it.status }}" }
                val refreshes = stat(baseUrl, "refreshes") - before
                check(refreshes == 1L) { "20 requests across an expiry made $refreshes refreshes" }
                check(store.load()?.accessToken != tokens.accessToken) { "the rotated tokens were not saved" }
            }
        }
        // 3. The Rust core came out of the jar: JNA unpacks the resource to a temporary
        //    file (jna*.tmp), so no librefreshkit.so of a build tree is mapped.
        //    (JNA deletes it once loaded: the map then says "(deleted)".)
        val mapped = File("/proc/self/maps").readLines()
            .mapNotNull { line -> line.indexOf('/').takeIf { it >= 0 }?.let { line.substring(it).removeSuffix(" (deleted)") } }
            .distinct()
        check(mapped.none { it.endsWith("librefreshkit.so") }) { "a build tree's library was loaded: ${mapped.filter { "refreshkit" in it }}" }
        val unpacked = mapped.filter { File(it).name.startsWith("jna") && it.endsWith(".tmp") }
        check(unpacked.isNotEmpty()) { "no library unpacked from the jar is mapped: ${mapped.filter { "jna" in it.lowercase() }}" }
        println("jvm consumer: the README quick start ran against the auth server: 1 request, then 20 across an expiry with 1 refresh; the core unpacked from the jar ($unpacked)")
    } finally {
        server.outputStream.close()
        server.waitFor()
    }
}
