package dev.refreshkit.android

import android.content.Context
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import dev.refreshkit.DpopKeyException
import dev.refreshkit.ExpiryReason
import dev.refreshkit.HttpRequest
import dev.refreshkit.Session
import dev.refreshkit.SessionConfig
import dev.refreshkit.SessionException
import dev.refreshkit.SessionState
import dev.refreshkit.test.AuthServer
import java.math.BigInteger
import java.security.KeyFactory
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.security.spec.ECPoint
import java.security.spec.ECPublicKeySpec
import java.util.Base64
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment

/** KeystoreDpopKey over [FakeAndroidKeyStore], on its own and in a session against `auth-server --dpop`. */
@RunWith(RobolectricTestRunner::class)
class KeystoreDpopKeyTest {
    private val context: Context = RuntimeEnvironment.getApplication()
    private val resource = HttpRequest(url = "/api/resource")

    @Before fun installKeystore() = FakeAndroidKeyStore.install()

    @After fun removeKeystore() = FakeAndroidKeyStore.uninstall()

    @Test fun `a Keystore key signs the login, requests and a refresh with proofs the server accepts`() = runBlocking {
        AuthServer("--dpop").use { server ->
            Session.withDpop(SessionConfig(baseUrl = server.baseUrl), KeystoreTokenStore(context), KeystoreDpopKey()).use { session ->
                val tokens = server.loginWithProof { nonce -> session.dpopProof("POST", "${server.baseUrl}/login", nonce) }
                assertEquals("DPoP", tokens.tokenType)
                session.signIn(tokens)
                assertEquals(200, session.execute(resource).status.toInt())
                server.expireAll()
                assertEquals(200, session.execute(resource).status.toInt())

                assertEquals(1L, server.stat("refreshes"))
                assertEquals(0L, server.stat("dpop_refused"))
            }
        }
    }

    @Test fun `the key is made in StrongBox to sign with SHA-256 and its JWK verifies its signatures`() {
        val key = KeystoreDpopKey()
        val spec = FakeAndroidKeyStore.ecSpecs.single()
        assertTrue(spec.isStrongBoxBacked)
        assertEquals(KeyProperties.PURPOSE_SIGN, spec.purposes)
        assertEquals(listOf(KeyProperties.DIGEST_SHA256), spec.digests.toList())
        assertVerifies(key)
    }

    @Test fun `without StrongBox the key is made in the Keystore all the same`() {
        FakeAndroidKeyStore.hasStrongBox = false
        val key = KeystoreDpopKey()
        assertEquals(listOf(true, false), FakeAndroidKeyStore.ecSpecs.map { it.isStrongBoxBacked })
        assertVerifies(key)
    }

    @Test fun `a relaunched app signs with the same key and rotate makes a new one`() {
        val jwk = KeystoreDpopKey().publicJwk()
        val relaunched = KeystoreDpopKey()
        assertEquals(jwk, relaunched.publicJwk())
        relaunched.rotate()
        assertFalse(jwk == relaunched.publicJwk())
        assertVerifies(relaunched)
    }

    @Test fun `a key deleted from the Keystore ends the session as expired with DPOP_KEY_GONE`() = runBlocking {
        AuthServer("--dpop").use { server ->
            Session.withDpop(SessionConfig(baseUrl = server.baseUrl), KeystoreTokenStore(context), KeystoreDpopKey()).use { session ->
                session.signIn(server.loginWithProof { nonce -> session.dpopProof("POST", "${server.baseUrl}/login", nonce) })
                assertEquals(200, session.execute(resource).status.toInt())

                KeyStore.getInstance("AndroidKeyStore").apply { load(null) }.deleteEntry(KeystoreDpopKey.DEFAULT_ALIAS)

                val error = assertThrows(SessionException.SessionExpired::class.java) { runBlocking { session.execute(resource) } }
                assertEquals(ExpiryReason.DPOP_KEY_GONE, error.reason)
                assertEquals(SessionState.EXPIRED, session.state())
            }
        }
    }

    @Test fun `after DPOP_KEY_GONE the user signs in again with a new key, for a deleted or an invalidated key`() = runBlocking {
        for (loss in listOf("deleted", "invalidated")) {
            FakeAndroidKeyStore.install()
            AuthServer("--dpop").use { server ->
                Session.withDpop(SessionConfig(baseUrl = server.baseUrl), KeystoreTokenStore(context), KeystoreDpopKey()).use { session ->
                    session.signIn(server.loginWithProof { nonce -> session.dpopProof("POST", "${server.baseUrl}/login", nonce) })
                    assertEquals(200, session.execute(resource).status.toInt())
                    if (loss == "deleted") {
                        KeyStore.getInstance("AndroidKeyStore").apply { load(null) }.deleteEntry(KeystoreDpopKey.DEFAULT_ALIAS)
                    } else {
                        FakeAndroidKeyStore.invalidate(KeystoreDpopKey.DEFAULT_ALIAS)
                    }
                    val error = assertThrows(SessionException.SessionExpired::class.java) { runBlocking { session.execute(resource) } }
                    assertEquals(ExpiryReason.DPOP_KEY_GONE, error.reason)

                    // The user signs in again, as the README shows: the login's proof, then the tokens.
                    val tokens = server.loginWithProof { nonce -> session.dpopProof("POST", "${server.baseUrl}/login", nonce) }
                    assertEquals("$loss key", "DPoP", tokens.tokenType)
                    session.signIn(tokens)
                    assertEquals("$loss key", 200, session.execute(resource).status.toInt())
                    assertEquals("$loss key", 0L, server.stat("dpop_refused"))
                }
            }
        }
    }

    @Test fun `an invalidated key is gone and a failing Keystore is a failure naming no key material`() {
        val key = KeystoreDpopKey()
        FakeAndroidKeyStore.failure = { KeyPermanentlyInvalidatedException() }
        assertThrows(DpopKeyException.Gone::class.java) { key.sign(ByteArray(8)) }
        FakeAndroidKeyStore.failure = { java.security.InvalidKeyException("Keystore operation failed") }
        val failed = assertThrows(DpopKeyException.Failed::class.java) { key.sign(ByteArray(8)) }
        assertEquals("keystore: InvalidKeyException", failed.detail)
    }

    /** Checks a DER signature of the key against the public key its JWK describes. */
    private fun assertVerifies(key: KeystoreDpopKey) {
        val message = "header.claims".toByteArray()
        val verifier = Signature.getInstance("SHA256withECDSA", jvmProvider("Signature.SHA256withECDSA")).apply { initVerify(publicKeyOf(key.publicJwk())); update(message) }
        assertTrue("the signature verifies with the JWK's key", verifier.verify(key.sign(message)))
    }

    private fun publicKeyOf(jwk: String): java.security.PublicKey {
        fun coordinate(name: String): BigInteger {
            val bytes = Base64.getUrlDecoder().decode(Regex("\"$name\":\"([^\"]+)\"").find(jwk)!!.groupValues[1])
            assertEquals("$name is 32 bytes", 32, bytes.size)
            return BigInteger(1, bytes)
        }
        val p256 = (KeyPairGenerator.getInstance("EC", jvmProvider("KeyPairGenerator.EC")).apply { initialize(ECGenParameterSpec("secp256r1")) }
            .generateKeyPair().public as ECPublicKey).params
        return KeyFactory.getInstance("EC").generatePublic(ECPublicKeySpec(ECPoint(coordinate("x"), coordinate("y")), p256))
    }
}
