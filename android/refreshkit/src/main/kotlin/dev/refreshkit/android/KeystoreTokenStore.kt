package dev.refreshkit.android

import android.content.Context
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
import dev.refreshkit.RefreshLock
import dev.refreshkit.StoreException
import dev.refreshkit.TokenStore
import dev.refreshkit.Tokens
import dev.refreshkit.fileRefreshLock
import java.io.File
import java.io.IOException
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
 *   signs in again; it never crashes. A key the Keystore invalidated for good is
 *   deleted with the file, so the next [save] makes a new one.
 * - A save that did not reach the disk throws `StoreException.Failed`, so refreshkit
 *   sends a `StoreFailed` event (after a refresh it goes on with the new tokens in memory).
 * - Every instance and process of the app takes one lock (a file in `noBackupFilesDir`)
 *   around the key's creation and the file, so two stores never make two keys.
 * - The app's processes (a `:sync` or `:widget` process) refresh one at a time: the store
 *   offers refreshkit a refresh lock (another file in `noBackupFilesDir`), so they never
 *   spend one refresh token twice.
 *
 * [requireUnlockedDevice] (API 28 and later; off by default) binds a key created from then
 * on to an unlocked device: tokens at rest are then useless to someone who takes a locked
 * phone apart, but while the phone is locked [load] and [save] throw `StoreException.Locked`.
 * refreshkit keeps that apart from "signed out", yet a refresh in the background (a push, a
 * WorkManager job) while locked cannot save what the server rotated: if the process dies
 * before a later save, the stored refresh token is already spent and the user must sign in
 * again. The default favours staying signed in. StrongBox is not used: each operation costs tens of milliseconds on the secure
 * element, it is missing on many devices, and the tokens live in the app's memory anyway.
 */
class KeystoreTokenStore(
    context: Context,
    fileName: String = "refreshkit.tokens",
    private val keyAlias: String = "dev.refreshkit.tokens",
    private val requireUnlockedDevice: Boolean = false,
) : TokenStore {
    private val file = TokenFile(File(context.noBackupFilesDir, fileName), File(context.noBackupFilesDir, LOCK_FILE))
    private val refresh = fileRefreshLock(File(context.noBackupFilesDir, "$fileName.refresh.lock").path)

    override fun refreshLock(): RefreshLock = refresh

    override fun load(): Tokens? = locked {
        val sealed = file.read() ?: return@locked null
        try {
            val key = existingKey() ?: return@locked discard()
            decode(open(key, sealed))
        } catch (e: UserNotAuthenticatedException) {
            throw StoreException.Locked()
        } catch (e: KeyPermanentlyInvalidatedException) {
            // The key is dead for good (the screen lock was removed): the next save makes a new one.
            deleteKey()
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

    override fun save(tokens: Tokens) = locked {
        val sealed = try {
            try {
                seal(existingKey() ?: newKey(), encode(tokens))
            } catch (e: KeyPermanentlyInvalidatedException) {
                // Invalidated since the last load: nothing it sealed can be read again.
                deleteKey()
                seal(newKey(), encode(tokens))
            }
        } catch (e: UserNotAuthenticatedException) {
            throw StoreException.Locked()
        } catch (e: GeneralSecurityException) {
            throw StoreException.Failed("keystore: ${e.javaClass.simpleName}")
        }
        file.write(sealed)
    }

    override fun clear() = locked { file.delete() }

    /** Runs [block] under the app-wide lock; a file that cannot be used is a failed store call. */
    private fun <T> locked(block: () -> T): T =
        try {
            file.locked(block)
        } catch (e: IOException) {
            throw StoreException.Failed("file: ${e.javaClass.simpleName}")
        }

    private fun discard(): Tokens? {
        file.delete()
        return null
    }

    private fun existingKey(): SecretKey? {
        val keyStore = KeyStore.getInstance(KEYSTORE).apply { load(null) }
        return (keyStore.getEntry(keyAlias, null) as? KeyStore.SecretKeyEntry)?.secretKey
    }

    private fun deleteKey() {
        KeyStore.getInstance(KEYSTORE).apply { load(null) }.deleteEntry(keyAlias)
    }

    private fun newKey(): SecretKey {
        val spec = KeyGenParameterSpec.Builder(keyAlias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .apply { if (requireUnlockedDevice && Build.VERSION.SDK_INT >= 28) setUnlockedDeviceRequired(true) }
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
        .put("id_token", tokens.idToken ?: JSONObject.NULL)
        .put("scope", tokens.scope ?: JSONObject.NULL)
        .put("token_type", tokens.tokenType ?: JSONObject.NULL)
        .toString()
        .toByteArray(Charsets.UTF_8)

    private fun decode(bytes: ByteArray): Tokens {
        val json = JSONObject(String(bytes, Charsets.UTF_8))
        return Tokens(
            accessToken = json.getString("access_token"),
            refreshToken = json.text("refresh_token"),
            expiresAt = if (json.isNull("expires_at_ms")) null else Instant.ofEpochMilli(json.getLong("expires_at_ms")),
            idToken = json.text("id_token"),
            scope = json.text("scope"),
            tokenType = json.text("token_type"),
        )
    }

    /** `null` when absent (files written before the field existed) or JSON null. */
    private fun JSONObject.text(name: String): String? = if (isNull(name)) null else optString(name)

    private companion object {
        const val KEYSTORE = "AndroidKeyStore"
        const val LOCK_FILE = "dev.refreshkit.lock"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
    }
}
