#if canImport(Security)
import Foundation
import Security
#if canImport(CryptoKit)
import CryptoKit
#endif

/// The DPoP key (ES256) of a `Session.withDpop`: a P-256 key made in the Secure Enclave,
/// whose private half never leaves it, so tokens bound to it are useless on any other
/// device.
///
/// - Kept in the Keychain under `tag` (`kSecAttrIsPermanent`): the app's next launch signs
///   with the same key, so its stored tokens stay usable. A new sign-in may `rotate()` it.
/// - `AfterFirstUnlockThisDeviceOnly` with `privateKeyUsage`: refreshes in the background
///   can sign once the device has been unlocked after boot, and the key is in no backup.
/// - Where there is no Secure Enclave (the simulator) the key is a software P-256 key in
///   the Keychain, with the same accessibility: the same code path, weaker protection.
/// - A key that existed and is gone (`errSecItemNotFound`: deleted while the app runs)
///   throws `DpopKeyError.gone` once: the session ends as expired (`.dpopKeyGone`) and the
///   user signs in again. The call after that (the sign-in's `dpopProof`) makes a new key
///   under the tag, so the new sign-in works without restarting the app. A locked
///   Keychain is `.failed`, never `.gone`: the tokens are kept.
/// - Signatures are DER, as `SecKeyCreateSignature` makes them; refreshkit converts them.
/// - Creating the key is a Keychain call: do it off the main thread.
public final class SecureEnclaveDpopKey: DpopKey, @unchecked Sendable {
    private let tag: Data
    private let accessGroup: String?
    private let useSecureEnclave: Bool
    /// One replacement of a gone key at a time, and whether its loss was reported.
    private let replacing = NSLock()
    private var goneReported = false

    /// Finds the key under `tag`, or makes it. `accessGroup` shares it with app extensions.
    public init(
        tag: String = "dev.refreshkit.dpop",
        accessGroup: String? = nil,
        useSecureEnclave: Bool = SecureEnclaveDpopKey.secureEnclaveIsAvailable
    ) throws {
        self.tag = Data(tag.utf8)
        self.accessGroup = accessGroup
        self.useSecureEnclave = useSecureEnclave
        do {
            _ = try storedKey()
        } catch DpopKeyError.gone {
            try create()
        }
    }

    /// False on the simulator and on Macs without a Secure Enclave.
    public static var secureEnclaveIsAvailable: Bool {
        #if canImport(CryptoKit) && !targetEnvironment(simulator)
        return SecureEnclave.isAvailable
        #else
        return false
        #endif
    }

    public func publicJwk() throws -> String {
        var error: Unmanaged<CFError>?
        guard let publicKey = SecKeyCopyPublicKey(try privateKey()) else {
            throw DpopKeyError.failed(detail: "SecKeyCopyPublicKey gave no key")
        }
        // X9.63: 0x04 ‖ x ‖ y, 32 bytes each.
        guard let point = SecKeyCopyExternalRepresentation(publicKey, &error) as Data? else {
            throw Self.failure("SecKeyCopyExternalRepresentation", error)
        }
        guard point.count == 65, point.first == 4 else {
            throw DpopKeyError.failed(detail: "not an uncompressed P-256 point")
        }
        let x = Self.base64URL(point.subdata(in: 1..<33)), y = Self.base64URL(point.subdata(in: 33..<65))
        return #"{"kty":"EC","crv":"P-256","x":"\#(x)","y":"\#(y)"}"#
    }

    public func sign(message: Data) throws -> Data {
        var error: Unmanaged<CFError>?
        // Looked up for every signature, so a deleted key is `gone`, not a stale reference.
        guard let signature = SecKeyCreateSignature(try privateKey(), .ecdsaSignatureMessageX962SHA256, message as CFData, &error) as Data? else {
            throw Self.failure("SecKeyCreateSignature", error)
        }
        return signature
    }

    /// A new key under the tag, for a new sign-in: tokens bound to the old one stop working.
    public func rotate() throws {
        let status = SecItemDelete(query as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else { throw Self.failure(status) }
        try replacing.sync {
            goneReported = false
            try create()
        }
    }

    private var query: [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrKeyClass as String: kSecAttrKeyClassPrivate,
            kSecAttrApplicationTag as String: tag,
            kSecUseDataProtectionKeychain as String: true,
        ]
        if let accessGroup { query[kSecAttrAccessGroup as String] = accessGroup }
        return query
    }

    /// The key under the tag. When it is gone: `.gone` once, for the session whose tokens
    /// are bound to it; then a new key, for the user's next sign-in.
    private func privateKey() throws -> SecKey {
        do {
            return try storedKey()
        } catch DpopKeyError.gone {
            return try replacing.sync {
                // Another caller may have made the new key meanwhile.
                do {
                    return try storedKey()
                } catch DpopKeyError.gone {}
                guard goneReported else {
                    goneReported = true
                    throw DpopKeyError.gone
                }
                goneReported = false
                try create()
                return try storedKey()
            }
        }
    }

    private func storedKey() throws -> SecKey {
        var request = query
        request[kSecReturnRef as String] = true
        var result: CFTypeRef?
        let status = SecItemCopyMatching(request as CFDictionary, &result)
        switch status {
        case errSecSuccess: return result as! SecKey
        case errSecItemNotFound: throw DpopKeyError.gone
        default: throw Self.failure(status)
        }
    }

    private func create() throws {
        var error: Unmanaged<CFError>?
        var privateAttributes: [String: Any] = [
            kSecAttrIsPermanent as String: true,
            kSecAttrApplicationTag as String: tag,
        ]
        var parameters: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecUseDataProtectionKeychain as String: true,
        ]
        if let accessGroup { parameters[kSecAttrAccessGroup as String] = accessGroup }
        if useSecureEnclave {
            // The Secure Enclave signs only with keys whose access control allows private key usage.
            guard let access = SecAccessControlCreateWithFlags(
                kCFAllocatorDefault, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, .privateKeyUsage, &error
            ) else { throw Self.failure("SecAccessControlCreateWithFlags", error) }
            privateAttributes[kSecAttrAccessControl as String] = access
            parameters[kSecAttrTokenID as String] = kSecAttrTokenIDSecureEnclave
        } else {
            privateAttributes[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        }
        parameters[kSecPrivateKeyAttrs as String] = privateAttributes
        guard SecKeyCreateRandomKey(parameters as CFDictionary, &error) != nil else {
            throw Self.failure("SecKeyCreateRandomKey", error)
        }
    }

    /// The error's domain and code only: never key material.
    private static func failure(_ function: String, _ error: Unmanaged<CFError>?) -> DpopKeyError {
        guard let error = error?.takeRetainedValue() else { return .failed(detail: "\(function) failed") }
        let nsError = error as Error as NSError
        return .failed(detail: "\(function): \(nsError.domain) \(nsError.code)")
    }

    private static func failure(_ status: OSStatus) -> DpopKeyError {
        .failed(detail: "keychain: OSStatus \(status)")
    }

    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
#endif
