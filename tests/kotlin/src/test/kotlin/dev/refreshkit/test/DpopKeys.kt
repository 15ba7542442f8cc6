package dev.refreshkit.test

import dev.refreshkit.DpopKey
import dev.refreshkit.DpopKeyException
import java.math.BigInteger
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.util.Base64
import java.util.concurrent.CopyOnWriteArrayList

/**
 * A DPoP key written in Kotlin over java.security: P-256 in memory, and DER signatures
 * from `SHA256withECDSA`, as the Android Keystore gives them (the core converts to r‖s).
 */
class JvmDpopKey : DpopKey {
    private val pair = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()

    /** The private key's PKCS#8 bytes, to check that no error ever carries them. */
    val privateBytes: ByteArray get() = pair.private.encoded

    override fun publicJwk(): String {
        val point = (pair.public as ECPublicKey).w
        return """{"kty":"EC","crv":"P-256","x":"${base64Url(point.affineX)}","y":"${base64Url(point.affineY)}"}"""
    }

    override fun sign(message: ByteArray): ByteArray =
        Signature.getInstance("SHA256withECDSA").run {
            initSign(pair.private)
            update(message)
            sign()
        }

    /** 32 bytes big-endian: BigInteger adds a sign byte or drops leading zeros. */
    private fun base64Url(n: BigInteger): String {
        val bytes = n.toByteArray().takeLast(32).toByteArray()
        val padded = ByteArray(32 - bytes.size) + bytes
        return Base64.getUrlEncoder().withoutPadding().encodeToString(padded)
    }
}

/**
 * Wraps a key: records what it was asked to sign (each proof's header and claims) and can be made
 * to vanish ([gone], like a key lost in a restore) or to fail ([failure]).
 */
class RecordingDpopKey(private val inner: DpopKey) : DpopKey {
    val signed = CopyOnWriteArrayList<String>()
    @Volatile var gone = false
    @Volatile var failure: String? = null

    override fun publicJwk(): String = inner.publicJwk()

    override fun sign(message: ByteArray): ByteArray {
        signed.add(String(message, Charsets.US_ASCII))
        if (gone) throw DpopKeyException.Gone()
        failure?.let { throw DpopKeyException.Failed(it) }
        return inner.sign(message)
    }
}
