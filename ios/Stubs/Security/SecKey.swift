// Apple's SecKey API, as far as a P-256 signing key needs it (SecureEnclaveDpopKey).
// The keys are Keychain items of the stub (StubKeys.swift); the ECDSA itself comes from
// SecurityStubControl.keyMaker, since Linux's Swift toolchain has no ECDSA.
import Foundation

public typealias CFData = Data
public typealias CFError = NSError
public typealias CFOptionFlags = UInt
public final class CFAllocator {}
public let kCFAllocatorDefault: CFAllocator? = nil

/// A key, private or public. Private keys never show their bytes, as in the Secure Enclave.
public final class SecKey {
    let material: StubKeyMaterial
    let isPrivate: Bool
    let inSecureEnclave: Bool
    let access: SecAccessControl?

    init(material: StubKeyMaterial, isPrivate: Bool, inSecureEnclave: Bool, access: SecAccessControl?) {
        (self.material, self.isPrivate, self.inSecureEnclave, self.access) = (material, isPrivate, inSecureEnclave, access)
    }
}

public final class SecAccessControl {
    let protection: CFString
    let flags: SecAccessControlCreateFlags

    init(protection: CFString, flags: SecAccessControlCreateFlags) { (self.protection, self.flags) = (protection, flags) }
}

public struct SecAccessControlCreateFlags: OptionSet {
    public let rawValue: CFOptionFlags
    public init(rawValue: CFOptionFlags) { self.rawValue = rawValue }
    public static let userPresence = SecAccessControlCreateFlags(rawValue: 1 << 0)
    public static let privateKeyUsage = SecAccessControlCreateFlags(rawValue: 1 << 30)
}

public struct SecKeyAlgorithm: Hashable, RawRepresentable {
    public let rawValue: CFString
    public init(rawValue: CFString) { self.rawValue = rawValue }
    public static let ecdsaSignatureMessageX962SHA256 = SecKeyAlgorithm(rawValue: "algid:sign:ECDSA:message-X962:SHA256")
    public static let ecdsaSignatureDigestX962SHA256 = SecKeyAlgorithm(rawValue: "algid:sign:ECDSA:digest-X962:SHA256")
}

public let kSecClassKey: CFString = "keys"
public let kSecAttrKeyClass: CFString = "kcls"
public let kSecAttrKeyClassPrivate: CFString = "1"
public let kSecAttrKeyClassPublic: CFString = "0"
public let kSecAttrKeyType: CFString = "type"
public let kSecAttrKeyTypeECSECPrimeRandom: CFString = "73"
public let kSecAttrKeySizeInBits: CFString = "bsiz"
public let kSecAttrTokenID: CFString = "tkid"
public let kSecAttrTokenIDSecureEnclave: CFString = "com.apple.setoken"
public let kSecAttrIsPermanent: CFString = "perm"
public let kSecAttrApplicationTag: CFString = "atag"
public let kSecAttrAccessControl: CFString = "accc"
public let kSecPrivateKeyAttrs: CFString = "private"
public let kSecPublicKeyAttrs: CFString = "public"
public let kSecReturnRef: CFString = "r_Ref"

// Apple's `protection` is a CFTypeRef; its values are the kSecAttrAccessible… CFStrings.
public func SecAccessControlCreateWithFlags(
    _ allocator: CFAllocator?, _ protection: CFString, _ flags: SecAccessControlCreateFlags,
    _ error: UnsafeMutablePointer<Unmanaged<CFError>?>?
) -> SecAccessControl? {
    SecAccessControl(protection: protection, flags: flags)
}

public func SecKeyCreateRandomKey(_ parameters: CFDictionary, _ error: UnsafeMutablePointer<Unmanaged<CFError>?>?) -> SecKey? {
    StubKeychain.shared.createKey(parameters, error)
}

public func SecKeyCopyPublicKey(_ key: SecKey) -> SecKey? {
    SecKey(material: key.material, isPrivate: false, inSecureEnclave: false, access: nil)
}

public func SecKeyCopyExternalRepresentation(_ key: SecKey, _ error: UnsafeMutablePointer<Unmanaged<CFError>?>?) -> CFData? {
    // Apple exports a software private key as 0x04‖x‖y‖d; this stub never exports one.
    guard !key.isPrivate else { return stubFailure(errSecUnimplemented, error) }
    return key.material.publicPoint
}

public func SecKeyCreateSignature(
    _ key: SecKey, _ algorithm: SecKeyAlgorithm, _ dataToSign: CFData, _ error: UnsafeMutablePointer<Unmanaged<CFError>?>?
) -> CFData? {
    guard key.isPrivate, algorithm == .ecdsaSignatureMessageX962SHA256 else { return stubFailure(errSecParam, error) }
    // The Secure Enclave signs only with keys whose access control allows private key usage.
    if key.inSecureEnclave, key.access?.flags.contains(.privateKeyUsage) != true { return stubFailure(errSecParam, error) }
    guard let raw = try? key.material.signRaw(dataToSign), raw.count == 64 else { return stubFailure(errSecParam, error) }
    return derSignature(raw)
}

/// Sets `error` to an NSOSStatusErrorDomain error with `status`, and answers nil.
func stubFailure<T>(_ status: OSStatus, _ error: UnsafeMutablePointer<Unmanaged<CFError>?>?) -> T? {
    error?.pointee = Unmanaged.passRetained(NSError(domain: "NSOSStatusErrorDomain", code: Int(status)))
    return nil
}

/// X9.62 DER (`SEQUENCE { INTEGER r, INTEGER s }`) from `r‖s`, as Apple's ECDSA gives it.
func derSignature(_ raw: Data) -> Data {
    func integer(_ bytes: Data) -> Data {
        var value = Data(bytes.drop { $0 == 0 })
        if value.isEmpty || value.first! >= 0x80 { value.insert(0, at: 0) }
        return Data([0x02, UInt8(value.count)]) + value
    }
    let body = integer(raw.prefix(32)) + integer(raw.suffix(32))
    return Data([0x30, UInt8(body.count)]) + body
}
