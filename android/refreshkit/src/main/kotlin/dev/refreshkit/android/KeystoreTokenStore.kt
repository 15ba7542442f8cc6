package dev.refreshkit.android

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
import android.util.AtomicFile
import dev.refreshkit.StoreException
import dev.refreshkit.TokenStore
import dev.refreshkit.Tokens
import java.io.File
import java.io.FileNotFoundException
import java.nio.ByteBuffer
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.time.Instant
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import org.json.JSONObject

/**
 * Tokens encrypted with AES-256-GCM under a key that never leaves the Android Keystore,
 * in one file in the app's no-backup folder, replaced atomically.
 *
 * - The file is in `noBackupFilesDir`: tokens do not travel to a new device, where the
 *   Keystore key would not exist anyway.
 * - When the key is gone or unusable (the app was restored to a new device, the user
 *   removed the screen lock, the file was damaged), [load] says "no tokens" and the user
 *   signs in again; it never crashes.
 * - When the key exists but cannot be used right now (a key bound to user
 *   authentication), [load] throws `StoreException.Locked`, which refreshkit keeps apart
 *   from "signed out".
 */
class KeystoreTokenStore(
    context: Context,
    fileName: String = "refreshkit.tokens",
    private val keyAlias: String = "dev.refreshkit.tokens",
) : TokenStore {
    private val file = AtomicFile(File(context.noBackupFilesDir, fileName))

    @Synchronized
    override fun load(): Tokens? {
        val sealed = try {
            file.readFully()
        } catch (e: FileNotFoundException) {
            return null
        }
        val key = existingKey() ?: return discard()
        return try {
            decode(open(key, sealed))
        } catch (e: UserNotAuthenticatedException) {
            throw StoreException.Locked()
        } catch (e: KeyPermanentlyInvalidatedException) {
            discard()
        } catch (e: AEADBadTagException) {
            discard()
        } catch (e: GeneralSecurityException) {
            throw StoreException.Failed("keystore: ${e.javaClass.simpleName}")
        } catch (e: IllegalArgumentException) {
            discard() // not a sealed box of ours
        } catch (e: org.json.JSONException) {
            discard()
        }
    }

    @Synchronized
    override fun save(tokens: Tokens) {
        val sealed = try {
            seal(existingKey() ?: newKey(), encode(tokens))
        } catch (e: UserNotAuthenticatedException) {
            throw StoreException.Locked()
        } catch (e: GeneralSecurityException) {
            throw StoreException.Failed("keystore: ${e.javaClass.simpleName}")
        }
        val out = file.startWrite()
        try {
            out.write(sealed)
            file.finishWrite(out) // fsync, then rename over the old file
        } catch (e: Exception) {
            file.failWrite(out)
            throw StoreException.Failed("write: ${e.javaClass.simpleName}")
        }
    }

    @Synchronized
    override fun clear() {
        file.delete()
    }

    private fun discard(): Tokens? {
        file.delete()
        return null
    }

    private fun existingKey(): SecretKey? {
        val keyStore = KeyStore.getInstance(KEYSTORE).apply { load(null) }
        return (keyStore.getEntry(keyAlias, null) as? KeyStore.SecretKeyEntry)?.secretKey
    }

    private fun newKey(): SecretKey {
        val spec = KeyGenParameterSpec.Builder(keyAlias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, KEYSTORE).apply { init(spec) }.generateKey()
    }

    /** `[iv length][iv][ciphertext with tag]`; the Keystore picks the IV. */
    private fun seal(key: SecretKey, plain: ByteArray): ByteArray {
        val cipher = Cipher.getInstance(TRANSFORMATION).apply { init(Cipher.ENCRYPT_MODE, key) }
        val iv = cipher.iv
        val body = cipher.doFinal(plain)
        return ByteBuffer.allocate(1 + iv.size + body.size).put(iv.size.toByte()).put(iv).put(body).array()
    }

    private fun open(key: SecretKey, sealed: ByteArray): ByteArray {
        require(sealed.isNotEmpty())
        val ivLength = sealed[0].toInt()
        require(ivLength in 12..16 && sealed.size > 1 + ivLength)
        val iv = sealed.copyOfRange(1, 1 + ivLength)
        val cipher = Cipher.getInstance(TRANSFORMATION).apply { init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, iv)) }
        return cipher.doFinal(sealed, 1 + ivLength, sealed.size - 1 - ivLength)
    }

    private fun encode(tokens: Tokens): ByteArray = JSONObject()
        .put("access_token", tokens.accessToken)
        .put("refresh_token", tokens.refreshToken ?: JSONObject.NULL)
        .put("expires_at_ms", tokens.expiresAt?.toEpochMilli() ?: JSONObject.NULL)
        .toString()
        .toByteArray(Charsets.UTF_8)

    private fun decode(bytes: ByteArray): Tokens {
        val json = JSONObject(String(bytes, Charsets.UTF_8))
        return Tokens(
            accessToken = json.getString("access_token"),
            refreshToken = json.optString("refresh_token").takeUnless { json.isNull("refresh_token") },
            expiresAt = if (json.isNull("expires_at_ms")) null else Instant.ofEpochMilli(json.getLong("expires_at_ms")),
        )
    }

    private companion object {
        const val KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
    }
}
