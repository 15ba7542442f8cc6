import Foundation
import RefreshKit
import Security

/// The stub's key material: the core's software P-256 key (ring), since Linux's Swift
/// toolchain has no ECDSA. SecureEnclaveDpopKey sees only Apple's SecKey API.
func coreKeyMaterial() -> StubKeyMaterial {
    let key = softwareDpopKey()
    let jwk = try! JSONSerialization.jsonObject(with: Data(try! key.publicJwk().utf8)) as! [String: String]
    let point = Data([4]) + base64URLDecoded(jwk["x"]!) + base64URLDecoded(jwk["y"]!)
    return StubKeyMaterial(publicPoint: point) { try key.sign(message: $0) }
}

func base64URLDecoded(_ text: String) -> Data {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
    return Data(base64Encoded: base64)!
}

func stubKeys() -> [StubItem] { SecurityStubControl.items.filter { $0.attributes[kSecClass] as? String == kSecClassKey } }

/// The `DpopKeyError` that `body` threw, or `nil` when it returned.
func keyError(_ body: () throws -> Void) throws -> DpopKeyError? {
    do {
        try body()
        return nil
    } catch let error as DpopKeyError {
        return error
    }
}

func dpopKeyChecks() {
    SecurityStubControl.keyMaker = coreKeyMaterial

    check("a Secure Enclave key is made once under its tag, after first unlock, this device only, for signing") {
        let key = try SecureEnclaveDpopKey(tag: "checks.dpop", useSecureEnclave: true)
        let again = try SecureEnclaveDpopKey(tag: "checks.dpop", useSecureEnclave: true)
        let items = stubKeys()
        try expect(items.count == 1, "one key item, not \(items.count)")
        let attributes = items[0].attributes
        try expect(attributes[kSecAttrTokenID] as? String == kSecAttrTokenIDSecureEnclave, "in the Secure Enclave")
        try expect(attributes[kSecAttrApplicationTag] as? Data == Data("checks.dpop".utf8), "under the tag")
        try expect(attributes[kSecAttrAccessible] as? String == kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, "accessibility")
        let access = (attributes[kSecAttrAccessControl] as? SecAccessControl).map(SecurityStubControl.flags)
        try expect(access?.contains(.privateKeyUsage) == true, "access control with privateKeyUsage, or the Secure Enclave will not sign")
        try expect(try key.publicJwk() == again.publicJwk(), "a second instance finds the same key")
        _ = try key.sign(message: Data("header.claims".utf8))
    }

    check("without a Secure Enclave the key is a software key in the Keychain, after first unlock, this device only") {
        SecurityStubControl.hasSecureEnclave = false
        try expect(!SecureEnclaveDpopKey.secureEnclaveIsAvailable, "Linux has no Secure Enclave")
        let key = try SecureEnclaveDpopKey()
        let attributes = stubKeys().first?.attributes ?? [:]
        try expect(attributes[kSecAttrTokenID] == nil, "not asked of the Secure Enclave")
        try expect(attributes[kSecAttrAccessible] as? String == kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, "accessibility")
        _ = try key.sign(message: Data("header.claims".utf8))
    }

    check("the JWK is the key's public point and signatures are DER") {
        let key = try SecureEnclaveDpopKey()
        let jwk = try JSONSerialization.jsonObject(with: Data(try key.publicJwk().utf8)) as! [String: String]
        let point = stubKeys()[0].key.flatMap { SecKeyCopyPublicKey($0) }.flatMap { SecKeyCopyExternalRepresentation($0, nil) }
        try expect(jwk["kty"] == "EC" && jwk["crv"] == "P-256", "an EC P-256 JWK")
        try expect(point == Data([4]) + base64URLDecoded(jwk["x"]!) + base64URLDecoded(jwk["y"]!), "x and y are the point's")
        let signature = try key.sign(message: Data("header.claims".utf8))
        try expect(signature.first == 0x30 && Int(signature[1]) == signature.count - 2, "a DER sequence")
    }

    check("a locked Keychain is a failure naming the status, never a gone key") {
        let key = try SecureEnclaveDpopKey()
        SecurityStubControl.deviceLock = .beforeFirstUnlock
        guard case .failed(let detail)? = try keyError({ _ = try key.sign(message: Data()) }) else {
            throw CheckFailure(description: "expected DpopKeyError.failed")
        }
        try expect(detail.contains("\(errSecInteractionNotAllowed)"), "the detail names the status: \(detail)")
    }

    check("rotate makes a new key under the tag") {
        let key = try SecureEnclaveDpopKey()
        let before = try key.publicJwk()
        try key.rotate()
        try expect(try key.publicJwk() != before, "a new public key")
        try expect(stubKeys().count == 1, "the old key is deleted")
    }

    checkAsync("a session signs in, calls and refreshes with the key, and ends as expired once the key is deleted") {
        let server = try AuthServer(["--dpop"])
        let key = try SecureEnclaveDpopKey()
        let session = try Session.withDpop(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), dpopKey: key)
        let tokens = try await server.loginWithProof { nonce in
            try await session.dpopProof(method: "POST", url: server.baseURL + "/login", nonce: nonce)
        }
        try expect(tokens.tokenType == "DPoP", "the server bound the tokens to the key")
        try await session.signIn(tokens: tokens)
        try await server.expireAll()
        let status = try await session.execute(HttpRequest(url: "/api/resource")).status
        try expect(status == 200, "the request after an expiry answered \(status)")
        let (refreshes, refused) = (try await server.stat("refreshes"), try await server.stat("dpop_refused"))
        try expect(refreshes == 1 && refused == 0, "\(refreshes) refreshes, \(refused) refused proofs")

        try expect(SecItemDelete([kSecClass: kSecClassKey, kSecUseDataProtectionKeychain: true]) == errSecSuccess, "deleted")
        do {
            _ = try await session.execute(HttpRequest(url: "/api/resource"))
            throw CheckFailure(description: "a request without the key succeeded")
        } catch let error as SessionError {
            try expect(error == .sessionExpired(reason: .dpopKeyGone), "\(error)")
        }
    }

    check("a deleted key is gone once, then a new key is made under the tag") {
        let key = try SecureEnclaveDpopKey()
        let before = try key.publicJwk()
        try expect(SecItemDelete([kSecClass: kSecClassKey, kSecUseDataProtectionKeychain: true]) == errSecSuccess, "deleted")
        try expect(try keyError({ _ = try key.sign(message: Data()) }) == .gone, "a deleted key is gone")
        _ = try key.sign(message: Data("header.claims".utf8))
        try expect(try key.publicJwk() != before, "a new public key")
        try expect(stubKeys().count == 1, "one key under the tag")
    }

    checkAsync("after the key is gone the user signs in again, with a new key, without restarting the app") {
        let server = try AuthServer(["--dpop"])
        let key = try SecureEnclaveDpopKey()
        let session = try Session.withDpop(config: SessionConfig(baseUrl: server.baseURL), store: FlakyStore(), dpopKey: key)
        let login = { try await server.loginWithProof { nonce in
            try await session.dpopProof(method: "POST", url: server.baseURL + "/login", nonce: nonce)
        } }
        try await session.signIn(tokens: try await login())
        try expect(SecItemDelete([kSecClass: kSecClassKey, kSecUseDataProtectionKeychain: true]) == errSecSuccess, "deleted")
        do {
            _ = try await session.execute(HttpRequest(url: "/api/resource"))
            throw CheckFailure(description: "a request without the key succeeded")
        } catch let error as SessionError {
            try expect(error == .sessionExpired(reason: .dpopKeyGone), "\(error)")
        }

        let tokens = try await login()
        try expect(tokens.tokenType == "DPoP", "the server bound the new tokens to the new key")
        try await session.signIn(tokens: tokens)
        let status = try await session.execute(HttpRequest(url: "/api/resource")).status
        try expect(status == 200, "the request after signing in again answered \(status)")
        let refused = try await server.stat("dpop_refused")
        try expect(refused == 0, "\(refused) refused proofs")
    }
}
