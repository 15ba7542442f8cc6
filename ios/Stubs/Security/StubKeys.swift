import Foundation

/// What a stub key signs with: its public point (0x04 ‖ x ‖ y) and a P-256 signer that
/// answers `r ‖ s` (SecKeyCreateSignature turns it into DER, as Apple's does).
public struct StubKeyMaterial {
    public let publicPoint: Data
    public let signRaw: (Data) throws -> Data

    public init(publicPoint: Data, signRaw: @escaping (Data) throws -> Data) {
        self.publicPoint = publicPoint
        self.signRaw = signRaw
    }
}

extension StubKeychain {
    /// SecKeyCreateRandomKey: a P-256 key, added to the Keychain when `kSecAttrIsPermanent`.
    func createKey(_ parameters: [String: Any], _ error: UnsafeMutablePointer<Unmanaged<CFError>?>?) -> SecKey? {
        var made: SecKey?
        let status = call("SecKeyCreateRandomKey", parameters) { $0.makeKey(parameters, &made) }
        guard status == errSecSuccess, let made else { return stubFailure(status, error) }
        return made
    }

    private func makeKey(_ parameters: [String: Any], _ made: inout SecKey?) -> OSStatus {
        guard parameters[kSecAttrKeyType] as? String == kSecAttrKeyTypeECSECPrimeRandom,
              parameters[kSecAttrKeySizeInBits] as? Int == 256 else { return errSecParam }
        let inSecureEnclave = parameters[kSecAttrTokenID] as? String == kSecAttrTokenIDSecureEnclave
        if inSecureEnclave, !hasSecureEnclave { return errSecUnimplemented }
        guard let keyMaker else { return errSecUnimplemented }
        let privateAttributes = parameters[kSecPrivateKeyAttrs] as? [String: Any] ?? [:]
        let access = privateAttributes[kSecAttrAccessControl] as? SecAccessControl
        let key = SecKey(material: keyMaker(), isPrivate: true, inSecureEnclave: inSecureEnclave, access: access)
        if privateAttributes[kSecAttrIsPermanent] as? Bool == true {
            var attributes: [String: Any] = [
                kSecClass: kSecClassKey,
                kSecAttrKeyClass: kSecAttrKeyClassPrivate,
                kSecAttrKeyType: kSecAttrKeyTypeECSECPrimeRandom,
            ]
            for name in [kSecAttrTokenID, kSecAttrAccessGroup, kSecUseDataProtectionKeychain, kSecAttrAccessible] {
                attributes[name] = parameters[name]
            }
            for (name, value) in privateAttributes where name != kSecAttrIsPermanent { attributes[name] = value }
            if let access { attributes[kSecAttrAccessible] = access.protection }
            let status = add(attributes, key: key)
            guard status == errSecSuccess else { return status }
        }
        made = key
        return errSecSuccess
    }
}
