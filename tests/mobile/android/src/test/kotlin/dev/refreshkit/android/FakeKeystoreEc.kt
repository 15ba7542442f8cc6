package dev.refreshkit.android

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import java.security.InvalidAlgorithmParameterException
import java.security.InvalidKeyException
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.KeyPairGeneratorSpi
import java.security.PrivateKey
import java.security.PublicKey
import java.security.SecureRandom
import java.security.Signature
import java.security.SignatureSpi
import java.security.cert.Certificate
import java.security.spec.AlgorithmParameterSpec
import java.security.spec.ECGenParameterSpec

// FakeAndroidKeyStore's EC half: P-256 keys made and used by the JVM's own EC provider.

/** The first provider of `type` that is not the fake itself (under Robolectric, SunEC
 * cannot make keys: it asks the first AlgorithmParameters provider, Conscrypt, for them). */
internal fun jvmProvider(type: String): java.security.Provider =
    java.security.Security.getProviders(type).first { it.name != "AndroidKeyStore" }

/** Makes P-256 pairs for a [KeyGenParameterSpec] that asks for signing, as the Keystore's does. */
internal class EcKeyPairGenerator : KeyPairGeneratorSpi() {
    private var spec: KeyGenParameterSpec? = null

    override fun initialize(params: AlgorithmParameterSpec, random: SecureRandom?) {
        val spec = params as? KeyGenParameterSpec
            ?: throw InvalidAlgorithmParameterException("AndroidKeyStore takes a KeyGenParameterSpec")
        val curve = (spec.algorithmParameterSpec as? ECGenParameterSpec)?.name
        if (curve != "secp256r1") throw InvalidAlgorithmParameterException("this fake makes P-256 keys only")
        this.spec = spec
    }

    override fun initialize(keysize: Int, random: SecureRandom?) = throw IllegalStateException("needs a KeyGenParameterSpec")

    override fun generateKeyPair(): KeyPair {
        val spec = checkNotNull(spec) { "not initialised" }
        FakeAndroidKeyStore.ecSpecs.add(spec)
        if (spec.isStrongBoxBacked && !FakeAndroidKeyStore.hasStrongBox) throw StrongBoxUnavailableException()
        val real = KeyPairGenerator.getInstance("EC", jvmProvider("KeyPairGenerator.EC")).apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()
        return KeyPair(real.public, KeystoreEcKey(real.private, spec.purposes, spec.digests.toSet()))
            .also { FakeAndroidKeyStore.ecKeys[spec.keystoreAlias] = it }
    }
}

/** A private key whose bytes stay inside the Keystore: only [FailingEcdsa] can use it. */
internal class KeystoreEcKey(val material: PrivateKey, val purposes: Int, val digests: Set<String>) : PrivateKey {
    override fun getAlgorithm() = "EC"
    override fun getFormat(): String? = null
    override fun getEncoded(): ByteArray? = null
}

/** The Keystore keeps the public key in a self-signed certificate; only its key is read here. */
internal class PublicKeyCertificate(private val key: PublicKey) : Certificate("X.509") {
    override fun getEncoded() = key.encoded
    override fun verify(key: PublicKey?) = Unit
    override fun verify(key: PublicKey?, sigProvider: String?) = Unit
    override fun toString() = "certificate of $key"
    override fun getPublicKey() = key
}

/** The JDK's SHA256withECDSA (DER), failing at init while [FakeAndroidKeyStore.failure] is set. */
internal class FailingEcdsa : SignatureSpi() {
    private val inner = Signature.getInstance("SHA256withECDSA", jvmProvider("Signature.SHA256withECDSA"))

    override fun engineInitSign(privateKey: PrivateKey) {
        val key = privateKey as? KeystoreEcKey ?: throw InvalidKeyException("not a Keystore key")
        FakeAndroidKeyStore.failure?.let { throw it() }
        if (privateKey in FakeAndroidKeyStore.invalidated) throw android.security.keystore.KeyPermanentlyInvalidatedException()
        // The real Keystore refuses what the key was not made for.
        if (key.purposes and KeyProperties.PURPOSE_SIGN == 0 || KeyProperties.DIGEST_SHA256 !in key.digests) {
            throw InvalidKeyException("the key was not made to sign with SHA-256")
        }
        inner.initSign(key.material)
    }

    override fun engineInitVerify(publicKey: java.security.PublicKey) = inner.initVerify(publicKey)
    override fun engineUpdate(b: Byte) = inner.update(b)
    override fun engineUpdate(b: ByteArray, off: Int, len: Int) = inner.update(b, off, len)
    override fun engineSign(): ByteArray = inner.sign()
    override fun engineVerify(sigBytes: ByteArray) = inner.verify(sigBytes)
    @Deprecated("as SignatureSpi") override fun engineSetParameter(param: String?, value: Any?) = throw UnsupportedOperationException()
    @Deprecated("as SignatureSpi") override fun engineGetParameter(param: String?): Any? = throw UnsupportedOperationException()
}
