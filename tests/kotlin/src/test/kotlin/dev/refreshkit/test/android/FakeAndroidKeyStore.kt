package dev.refreshkit.test.android

import android.security.keystore.KeyGenParameterSpec
import java.io.InputStream
import java.io.OutputStream
import java.security.Key
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
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.KeyGeneratorSpi
import javax.crypto.SecretKey
import javax.crypto.spec.SecretKeySpec

/**
 * Robolectric has no AndroidKeyStore: this stands in for it, with AES keys in memory
 * (the JDK does the AES-GCM work). Key generation waits up to [RIVAL_WAIT_MS] for a
 * second generation to start, so two stores racing to create the key meet here.
 */
class FakeAndroidKeyStore : Provider("AndroidKeyStore", "1.0", "in-memory AndroidKeyStore for tests") {
    init {
        put("KeyStore.AndroidKeyStore", Store::class.java.name)
        put("KeyGenerator.AES", Generator::class.java.name)
    }

    companion object {
        const val RIVAL_WAIT_MS = 300L
        val keys = ConcurrentHashMap<String, SecretKey>()
        val generated = AtomicInteger()
        @Volatile var lastSpec: KeyGenParameterSpec? = null

        fun install() {
            keys.clear()
            generated.set(0)
            lastSpec = null
            Security.removeProvider("AndroidKeyStore")
            Security.addProvider(FakeAndroidKeyStore())
        }
    }

    class Generator : KeyGeneratorSpi() {
        private var alias: String? = null

        override fun engineInit(params: AlgorithmParameterSpec?, random: SecureRandom?) {
            lastSpec = params as KeyGenParameterSpec
            alias = params.keystoreAlias
        }

        override fun engineInit(random: SecureRandom?) = throw UnsupportedOperationException()

        override fun engineInit(keysize: Int, random: SecureRandom?) = throw UnsupportedOperationException()

        override fun engineGenerateKey(): SecretKey {
            val me = generated.incrementAndGet()
            val deadline = System.nanoTime() + RIVAL_WAIT_MS * 1_000_000
            while (me == 1 && generated.get() == 1 && System.nanoTime() < deadline) Thread.sleep(1)
            val key = SecretKeySpec(ByteArray(32).also { SecureRandom().nextBytes(it) }, "AES")
            keys[alias!!] = key
            return key
        }
    }

    class Store : KeyStoreSpi() {
        override fun engineGetEntry(alias: String, protParam: KeyStore.ProtectionParameter?): KeyStore.Entry? =
            keys[alias]?.let { KeyStore.SecretKeyEntry(it) }

        override fun engineGetKey(alias: String, password: CharArray?): Key? = keys[alias]
        override fun engineGetCertificateChain(alias: String?): Array<Certificate>? = null
        override fun engineGetCertificate(alias: String?): Certificate? = null
        override fun engineGetCreationDate(alias: String?): Date? = null
        override fun engineSetKeyEntry(alias: String, key: Key, password: CharArray?, chain: Array<out Certificate>?) {
            keys[alias] = key as SecretKey
        }
        override fun engineSetKeyEntry(alias: String?, key: ByteArray?, chain: Array<out Certificate>?) = throw UnsupportedOperationException()
        override fun engineSetCertificateEntry(alias: String?, cert: Certificate?) = throw UnsupportedOperationException()
        override fun engineDeleteEntry(alias: String) {
            keys.remove(alias)
        }
        override fun engineAliases(): Enumeration<String> = Collections.enumeration(keys.keys.toList())
        override fun engineContainsAlias(alias: String): Boolean = keys.containsKey(alias)
        override fun engineSize(): Int = keys.size
        override fun engineIsKeyEntry(alias: String): Boolean = keys.containsKey(alias)
        override fun engineIsCertificateEntry(alias: String?): Boolean = false
        override fun engineGetCertificateAlias(cert: Certificate?): String? = null
        override fun engineStore(stream: OutputStream?, password: CharArray?) = Unit
        override fun engineLoad(stream: InputStream?, password: CharArray?) = Unit
    }
}
