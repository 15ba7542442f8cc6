package dev.refreshkit.android

import android.security.keystore.KeyGenParameterSpec
import java.security.AlgorithmParameters
import java.security.Key
import java.security.KeyPair
import java.security.KeyStore
import java.security.KeyStoreSpi
import java.security.Provider
import java.security.SecureRandom
import java.security.Security
import java.security.cert.Certificate
import java.security.spec.AlgorithmParameterSpec
import java.util.Collections
import java.util.Date
import java.util.Enumeration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import javax.crypto.Cipher
import javax.crypto.CipherSpi
import javax.crypto.KeyGeneratorSpi
import javax.crypto.SecretKey
import javax.crypto.spec.SecretKeySpec

/**
 * Stands in for Android's "AndroidKeyStore" provider, which Robolectric lacks: an
 * in-memory key store, AES and EC key generators that take [KeyGenParameterSpec] (as the
 * real ones do, and only that), and AES/GCM ciphers and SHA256withECDSA signatures that
 * do the JDK's work but can be made to fail the way a locked or broken Keystore does, at
 * `init`. As with the real Keystore, the private keys do not export their bytes, so no
 * other provider can take over when this one fails.
 */
object FakeAndroidKeyStore {
    val keys = ConcurrentHashMap<String, SecretKey>()
    val ecKeys = ConcurrentHashMap<String, KeyPair>()

    /** Thrown by every cipher and signature init while set: a locked key, a failing Keystore. */
    @Volatile var failure: (() -> Exception)? = null

    /** Whether the device has StrongBox; without, a StrongBox spec fails as on a real device. */
    @Volatile var hasStrongBox = true

    /** Keys the Keystore invalidated for good (the screen lock was removed): every init of one fails. */
    val invalidated: MutableSet<Key> = ConcurrentHashMap.newKeySet()

    /** Invalidates the keys now under [alias], as the Keystore does when the screen lock is removed. */
    fun invalidate(alias: String) {
        keys[alias]?.let { invalidated.add(it) }
        ecKeys[alias]?.let { invalidated.add(it.private) }
    }

    /** The specs EC keys were asked for, in order. */
    val ecSpecs = CopyOnWriteArrayList<KeyGenParameterSpec>()

    fun install() {
        keys.clear()
        ecKeys.clear()
        ecSpecs.clear()
        invalidated.clear()
        failure = null
        hasStrongBox = true
        Security.removeProvider(NAME)
        Security.insertProviderAt(FakeProvider(), 1)
    }

    fun uninstall() {
        Security.removeProvider(NAME)
    }

    private const val NAME = "AndroidKeyStore"

    private class FakeProvider : Provider(NAME, "1.0", "in-memory AndroidKeyStore for tests") {
        init {
            putService(service("KeyStore", NAME) { MemoryKeyStore() })
            putService(service("KeyGenerator", "AES") { AesKeyGenerator() })
            putService(service("Cipher", "AES/GCM/NoPadding") { FailingGcm() })
            putService(service("KeyPairGenerator", "EC") { EcKeyPairGenerator() })
            putService(service("Signature", "SHA256withECDSA") { FailingEcdsa() })
        }

        private fun service(type: String, algorithm: String, make: () -> Any) =
            object : Provider.Service(this, type, algorithm, make().javaClass.name, null, null) {
                override fun newInstance(constructorParameter: Any?): Any = make()
            }
    }

    private class MemoryKeyStore : KeyStoreSpi() {
        override fun engineGetEntry(alias: String, protParam: KeyStore.ProtectionParameter?): KeyStore.Entry? =
            keys[alias]?.let { KeyStore.SecretKeyEntry(it) }
                ?: ecKeys[alias]?.let { KeyStore.PrivateKeyEntry(it.private, arrayOf(PublicKeyCertificate(it.public))) }
        override fun engineGetKey(alias: String, password: CharArray?): Key? = keys[alias] ?: ecKeys[alias]?.private
        override fun engineGetCertificateChain(alias: String): Array<Certificate>? =
            engineGetCertificate(alias)?.let { arrayOf(it) }
        override fun engineGetCertificate(alias: String): Certificate? = ecKeys[alias]?.let { PublicKeyCertificate(it.public) }
        override fun engineGetCreationDate(alias: String): Date? = null
        override fun engineSetKeyEntry(alias: String, key: Key, password: CharArray?, chain: Array<out Certificate>?) {
            keys[alias] = key as SecretKey
        }
        override fun engineSetKeyEntry(alias: String, key: ByteArray, chain: Array<out Certificate>?) =
            throw UnsupportedOperationException()
        override fun engineSetCertificateEntry(alias: String, cert: Certificate) = throw UnsupportedOperationException()
        override fun engineDeleteEntry(alias: String) {
            keys.remove(alias)
            ecKeys.remove(alias)
        }
        override fun engineAliases(): Enumeration<String> = Collections.enumeration(keys.keys + ecKeys.keys)
        override fun engineContainsAlias(alias: String) = keys.containsKey(alias) || ecKeys.containsKey(alias)
        override fun engineSize() = keys.size + ecKeys.size
        override fun engineIsKeyEntry(alias: String) = engineContainsAlias(alias)
        override fun engineIsCertificateEntry(alias: String) = false
        override fun engineGetCertificateAlias(cert: Certificate): String? = null
        override fun engineStore(stream: java.io.OutputStream?, password: CharArray?) = Unit
        override fun engineLoad(stream: java.io.InputStream?, password: CharArray?) = Unit
    }

    private class AesKeyGenerator : KeyGeneratorSpi() {
        private var spec: KeyGenParameterSpec? = null

        override fun engineInit(params: AlgorithmParameterSpec, random: SecureRandom?) {
            spec = params as? KeyGenParameterSpec
                ?: throw java.security.InvalidAlgorithmParameterException("AndroidKeyStore takes a KeyGenParameterSpec")
        }
        override fun engineInit(random: SecureRandom?) = throw IllegalStateException("needs a KeyGenParameterSpec")
        override fun engineInit(keysize: Int, random: SecureRandom?) = throw IllegalStateException("needs a KeyGenParameterSpec")
        override fun engineGenerateKey(): SecretKey {
            val spec = checkNotNull(spec) { "not initialised" }
            val bytes = ByteArray(spec.keySize / 8).also { SecureRandom().nextBytes(it) }
            return KeystoreKey(bytes).also { keys[spec.keystoreAlias] = it }
        }
    }

    /** A key whose bytes stay inside the Keystore: only [FailingGcm] can use it. */
    private class KeystoreKey(val material: ByteArray) : SecretKey {
        override fun getAlgorithm() = "AES"
        override fun getFormat(): String? = null
        override fun getEncoded(): ByteArray? = null
    }

    private fun usable(key: Key): Key =
        SecretKeySpec((key as? KeystoreKey ?: throw java.security.InvalidKeyException("not a Keystore key")).material, "AES")

    /** The JDK's AES/GCM, failing at init while [failure] is set. */
    private class FailingGcm : CipherSpi() {
        private val inner: Cipher = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE")

        private fun failIfAsked(key: Key) {
            failure?.let { throw it() }
            if (key in invalidated) throw android.security.keystore.KeyPermanentlyInvalidatedException()
        }
        override fun engineInit(opmode: Int, key: Key, random: SecureRandom?) {
            failIfAsked(key); inner.init(opmode, usable(key), random)
        }
        override fun engineInit(opmode: Int, key: Key, params: AlgorithmParameterSpec?, random: SecureRandom?) {
            failIfAsked(key); inner.init(opmode, usable(key), params, random)
        }
        override fun engineInit(opmode: Int, key: Key, params: AlgorithmParameters?, random: SecureRandom?) {
            failIfAsked(key); inner.init(opmode, usable(key), params, random)
        }
        override fun engineSetMode(mode: String) = Unit
        override fun engineSetPadding(padding: String) = Unit
        override fun engineGetBlockSize() = inner.blockSize
        override fun engineGetOutputSize(inputLen: Int) = inner.getOutputSize(inputLen)
        override fun engineGetIV(): ByteArray? = inner.iv
        override fun engineGetParameters(): AlgorithmParameters? = inner.parameters
        override fun engineUpdate(input: ByteArray, offset: Int, len: Int): ByteArray? = inner.update(input, offset, len)
        override fun engineUpdate(input: ByteArray, offset: Int, len: Int, output: ByteArray, outOffset: Int) =
            inner.update(input, offset, len, output, outOffset)
        override fun engineDoFinal(input: ByteArray?, offset: Int, len: Int): ByteArray =
            inner.doFinal(input ?: ByteArray(0), offset, len)
        override fun engineDoFinal(input: ByteArray?, offset: Int, len: Int, output: ByteArray, outOffset: Int) =
            inner.doFinal(input ?: ByteArray(0), offset, len, output, outOffset)
    }
}
