package dev.refreshkit.sample

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dev.refreshkit.HttpRequest
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.Tokens
import dev.refreshkit.android.KeystoreTokenStore
import dev.refreshkit.android.RefreshKitAndroid
import dev.refreshkit.ktx.ObservableSession
import java.net.HttpURLConnection
import java.net.URL
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.json.JSONObject

/**
 * Signs in against the local auth server on the development machine (run
 * `cargo run -p auth-server -- --port 8080 --access-ttl-ms 5000` there), shows the session
 * state, and fires 20 parallel requests across a token expiry.
 */
class MainActivity : ComponentActivity() {
    private lateinit var session: ObservableSession

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        RefreshKitAndroid.initialize(this)
        session = ObservableSession(
            SessionConfig(
                baseUrl = "http://10.0.2.2:8080",
                // 10.0.2.2 is the emulator's way to the host, not loopback: allowed for
                // this sample only. Never in production.
                allowInsecureHttp = true,
                refreshLeewayMs = 1_000u,
            ),
            KeystoreTokenStore(applicationContext),
        )
        setContent { MaterialTheme { SampleScreen(session) } }
    }

    override fun onDestroy() {
        session.close()
        super.onDestroy()
    }
}

@Composable
private fun SampleScreen(session: ObservableSession) {
    val state by session.state.collectAsStateWithLifecycle()
    val needsSignIn by session.needsSignIn.collectAsStateWithLifecycle()
    var report by remember { mutableStateOf("") }
    val scope = rememberCoroutineScope()

    Column(Modifier.padding(24.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Session: $state", style = MaterialTheme.typography.titleLarge)
        // The login only when nobody is signed in: LOCKED (the Keystore before the first
        // unlock) and LOADING keep the signed-in screen.
        if (needsSignIn) {
            Button(onClick = { scope.launch { report = signIn(session) } }) { Text("Sign in") }
        } else {
            Button(onClick = { scope.launch { report = fireTwenty(session) } }) { Text("Fire 20 requests") }
            Button(onClick = {
                scope.launch {
                    // Signed out once the store is cleared; if that fails, nothing changed.
                    report = try { session.signOut(); "Signed out" } catch (e: SessionException) { "Sign-out failed: $e" }
                }
            }) { Text("Sign out") }
        }
        Text(report)
    }
}

private suspend fun signIn(session: ObservableSession): String =
    try {
        // A real app gets these from its login screen (AppAuth, its own form).
        val json = JSONObject(withContext(Dispatchers.IO) { login("http://10.0.2.2:8080/login") })
        session.signIn(Tokens(json.getString("access_token"), json.getString("refresh_token")))
        "Signed in"
    } catch (e: SessionException) {
        "Sign-in failed: $e"
    } catch (e: java.io.IOException) {
        "Auth server unreachable: ${e.message}"
    }

private suspend fun fireTwenty(session: ObservableSession): String = coroutineScope {
    val before = session.metrics().refreshes
    val statuses = (1..20).map {
        async { runCatching { session.execute(HttpRequest(url = "/api/resource")).status.toInt() }.getOrDefault(-1) }
    }.awaitAll()
    val refreshes = session.metrics().refreshes - before
    "${statuses.count { it == 200 }} of 20 succeeded, $refreshes refresh(es)"
}

/** The sample's stand-in for a login screen: the auth server's test login endpoint. */
private fun login(url: String): String {
    val connection = URL(url).openConnection() as HttpURLConnection
    return try {
        connection.requestMethod = "POST"
        connection.doOutput = true
        connection.outputStream.use { it.write("{}".toByteArray()) }
        connection.inputStream.use { it.readBytes().decodeToString() }
    } finally {
        connection.disconnect()
    }
}
