package dev.refreshkit.android

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.util.Base64
import dev.refreshkit.DpopKey
import dev.refreshkit.DpopKeyException
import java.math.BigInteger
import java.security.GeneralSecurityException
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.ProviderException
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec

/**
 * The DPoP key (ES256) of a `Session.withDpop`, held in the Android Keystore: the private
 * key is made inside the Keystore and never leaves it, so tokens bound to it are useless
 * on any other device.
 *
 * - Made in StrongBox (a separate secure chip) where the device has one, API 28 and
 *   later; otherwise in the Keystore's TEE. One signature per request costs tens of
 *   milliseconds in StrongBox: pass `preferStrongBox = false` where that matters more
 *   than the stronger chip.
 * - The key is made on first use of [alias] and kept: the app's next launch signs with
 *   the same key, so its stored tokens stay usable. A new sign-in may [rotate] it.
 * - When the key is deleted while the app runs, or invalidated, [sign] throws
 *   `DpopKeyException.Gone` and the session ends as expired (`DPOP_KEY_GONE`): the user
 *   signs in again. The use after that (the login's `dpopProof`) makes a new key under
 *   the alias, so the new tokens are bound to it. Keystore keys are in no backup: tokens an app restores from one are
 *   bound to a key this device never had, and the server refuses them.
 * - Signatures are DER, as the Keystore makes them; refreshkit converts them for JWS.
 * - Constructing it may make a key (a StrongBox key takes up to a second): do it off the
 *   main thread, like the session's other set-up.
 */
class KeystoreDpopKey(
    private val alias: String = DEFAULT_ALIAS,
    private val preferStrongBox: Boolean = true,
) : DpopKey {
    init {
        if (entry() == null) create(alias, preferStrongBox)
    }

    /**
     * Set when this key answered `Gone`: the session that used it has ended, so the next
     * use is a new sign-in's, and gets a new key if the old one is still unusable.
     */
    @Volatile private var goneReported = false

    // Read each time, not cached: after [rotate] every instance on the alias agrees.
    override fun publicJwk(): String = keystoreCall { jwkOf(privateEntry().certificate.publicKey as ECPublicKey) }

    override fun sign(message: ByteArray): ByteArray = keystoreCall {
        Signature.getInstance(SIGNATURE).run {
            initSign(privateEntry().privateKey)
            update(message)
            sign()
        }
    }

    /** A new key under the alias, for a new sign-in: tokens bound to the old one stop working. */
    fun rotate() {
        keystore().deleteEntry(alias)
        create(alias, preferStrongBox)
    }

    /**
     * The key to use. After a `Gone`, a key that is still missing or invalidated is
     * replaced first; a key that works again (another instance rotated it) is kept.
     */
    private fun privateEntry(): KeyStore.PrivateKeyEntry {
        if (goneReported) {
            synchronized(this) {
                if (goneReported) {
                    if (!usable(entry())) rotate()
                    goneReported = false
                }
            }
        }
        return entry() ?: throw DpopKeyException.Gone()
    }

    private fun usable(entry: KeyStore.PrivateKeyEntry?): Boolean =
        entry != null && try {
            Signature.getInstance(SIGNATURE).initSign(entry.privateKey)
            true
        } catch (e: KeyPermanentlyInvalidatedException) {
            false
        }

    private fun entry(): KeyStore.PrivateKeyEntry? = keystore().getEntry(alias, null) as? KeyStore.PrivateKeyEntry

    /** Keystore failures as the core's typed errors; the text names the failure's class, never key material. */
    private fun <T> keystoreCall(block: () -> T): T =
        try {
            block()
        } catch (e: DpopKeyException.Gone) {
            goneReported = true
            throw e
        } catch (e: KeyPermanentlyInvalidatedException) {
            goneReported = true
            throw DpopKeyException.Gone()
        } catch (e: GeneralSecurityException) {
            throw DpopKeyException.Failed("keystore: ${e.javaClass.simpleName}")
        } catch (e: ProviderException) {
            throw DpopKeyException.Failed("keystore: ${e.javaClass.simpleName}")
        }

    companion object {
        const val DEFAULT_ALIAS = "dev.refreshkit.dpop"
        private const val KEYSTORE = "AndroidKeyStore"
        private const val SIGNATURE = "SHA256withECDSA"

        private fun keystore(): KeyStore = KeyStore.getInstance(KEYSTORE).apply { load(null) }

        private fun create(alias: String, preferStrongBox: Boolean) {
            if (preferStrongBox && Build.VERSION.SDK_INT >= 28) {
                try {
                    return generate(spec(alias).setIsStrongBoxBacked(true).build())
                } catch (e: StrongBoxUnavailableException) {
                    // No StrongBox on this device: the TEE below.
                }
            }
            generate(spec(alias).build())
        }

        private fun spec(alias: String) = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
            .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
            .setDigests(KeyProperties.DIGEST_SHA256)

        private fun generate(spec: KeyGenParameterSpec) {
            KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, KEYSTORE).apply { initialize(spec) }.generateKeyPair()
        }

        private fun jwkOf(key: ECPublicKey): String =
            """{"kty":"EC","crv":"P-256","x":"${coordinate(key.w.affineX)}","y":"${coordinate(key.w.affineY)}"}"""

        /** base64url of exactly 32 big-endian bytes (BigInteger adds a sign byte or drops leading zeros). */
        private fun coordinate(value: BigInteger): String {
            val bytes = value.toByteArray().takeLast(32).toByteArray()
            val fixed = ByteArray(32 - bytes.size) + bytes
            return Base64.encodeToString(fixed, Base64.URL_SAFE or Base64.NO_PADDING or Base64.NO_WRAP)
        }
    }
}
