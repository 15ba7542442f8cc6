import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit

/// panva's oidc-provider (tests/oidc/provider.mjs), started on the host by
/// scripts/test-swift.sh (there is no Node.js inside the Swift root) and named by
/// REFRESHKIT_OIDC_ISSUER: DPoP-bound tokens, nonces required. The Swift counterpart of
/// tests/all/helpers/oidc.rs. One provider serves every test of a run: compare its
/// stats before and after.
public final class OidcProvider: @unchecked Sendable {
    /// The provider's only client: public, PKCE, DPoP-bound tokens.
    public static let clientId = "refreshkit"
    static let redirectUri = "http://127.0.0.1/callback"

    /// The issuer, which is also the base URL of its endpoints.
    public let issuer: String
    /// Follows no redirect and keeps no cookies: the front channel carries them by hand.
    private let http: URLSession

    public init(issuer: String) {
        self.issuer = issuer
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpCookieStorage = nil
        http = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    /// The provider of REFRESHKIT_OIDC_ISSUER; nil when it is unset.
    public static func fromEnvironment() -> OidcProvider? {
        guard let issuer = ProcessInfo.processInfo.environment["REFRESHKIT_OIDC_ISSUER"], !issuer.isEmpty else { return nil }
        return OidcProvider(issuer: issuer)
    }

    public func url(_ path: String) -> String { issuer + path }

    /// A session config for the provider: refresh at `/token` as the public client.
    public func config() -> SessionConfig {
        SessionConfig(
            baseUrl: issuer, refreshPath: "/token",
            refreshProtocol: .oAuth2(clientId: Self.clientId, clientSecret: nil, scope: nil, basicAuth: false)
        )
    }

    /// The provider's counts of its /token and /me answers, like `token refresh_token 200`.
    public func stats() async throws -> [String: Int] {
        let (data, response) = try await send(URLRequest(url: URL(string: url("/control/stats"))!))
        guard response.statusCode == 200 else { throw OidcError("GET /control/stats answered \(response.statusCode)") }
        return (try JSONSerialization.jsonObject(with: data) as? [String: Int]) ?? [:]
    }

    /// Ends `accessToken` in the provider's store: refused with `invalid_token` from now on,
    /// while the refresh token stays valid.
    public func expire(_ accessToken: String) async throws {
        var request = URLRequest(url: URL(string: url("/control/expire"))!)
        request.httpMethod = "POST"
        request.httpBody = Data(accessToken.utf8)
        let (_, response) = try await send(request)
        guard response.statusCode == 204 else { throw OidcError("the provider did not know the token (\(response.statusCode))") }
    }

    /// An authorization code from the real authorization endpoint, through the front channel
    /// a browser would take (the script's interaction logs `alice` in and consents),
    /// carrying the cookies the provider sets. Bound to `codeChallenge` (PKCE, S256).
    public func authorizationCode(codeChallenge: String) async throws -> String {
        var components = URLComponents(string: url("/auth"))!
        components.queryItems = [
            ("client_id", Self.clientId), ("response_type", "code"), ("redirect_uri", Self.redirectUri),
            ("scope", "openid offline_access"), ("prompt", "consent"), ("code_challenge", codeChallenge),
            ("code_challenge_method", "S256"), ("state", "refreshkit-state"),
        ].map { URLQueryItem(name: $0.0, value: $0.1) }
        var next = components.url!
        var cookies: [String: String] = [:]
        for _ in 0..<10 {
            var request = URLRequest(url: next)
            if !cookies.isEmpty {
                request.setValue(cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; "),
                                 forHTTPHeaderField: "Cookie")
            }
            let (_, response) = try await send(request)
            guard response.statusCode == 303 else { throw OidcError("the front channel stopped at \(next.path): \(response.statusCode)") }
            for set in setCookies(response) {
                let pair = set.split(separator: ";", maxSplits: 1)[0]
                guard let equals = pair.firstIndex(of: "=") else { continue }
                cookies[String(pair[..<equals]).trimmingCharacters(in: .whitespaces)] = String(pair[pair.index(after: equals)...])
            }
            guard let location = response.value(forHTTPHeaderField: "Location"), let url = URL(string: location, relativeTo: next) else {
                throw OidcError("a redirect without Location at \(next.path)")
            }
            next = url.absoluteURL
            if next.absoluteString.hasPrefix(Self.redirectUri) {
                let query = URLComponents(url: next, resolvingAgainstBaseURL: false)?.queryItems ?? []
                let value = { (name: String) in query.first { $0.name == name }?.value }
                guard value("state") == "refreshkit-state", value("iss") == issuer else { throw OidcError("state or iss is wrong") }
                guard let code = value("code") else { throw OidcError("the redirect carries no code") }
                return code
            }
        }
        throw OidcError("the front channel never reached the redirect URI")
    }

    /// `POST /token` for the authorization code, with `dpop` as the `DPoP` header when given:
    /// the status, the `DPoP-Nonce` answered and the JSON body.
    public func exchangeCode(_ code: String, codeVerifier: String, dpop: String?) async throws -> (Int, String?, [String: Any]) {
        var request = URLRequest(url: URL(string: url("/token"))!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        if let dpop { request.setValue(dpop, forHTTPHeaderField: "DPoP") }
        var form = URLComponents()
        form.queryItems = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Self.redirectUri),
            ("client_id", Self.clientId), ("code_verifier", codeVerifier),
        ].map { URLQueryItem(name: $0.0, value: $0.1) }
        // Form values here are URL-safe (base64url, the fixed URI), so the query encoding fits.
        request.httpBody = Data((form.percentEncodedQuery ?? "").utf8)
        let (data, response) = try await send(request)
        let body = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        return (response.statusCode, response.value(forHTTPHeaderField: "DPoP-Nonce"), body)
    }

    /// Signs `alice` in as an app would: the front channel, then the code exchange with the
    /// session's proof, sent again with the nonce the provider asks for (`retryWithNonce`).
    /// The tokens as the provider gave them.
    public func logIn(_ session: Session, retryWithNonce: Bool = true) async throws -> Tokens {
        let (verifier, challenge) = pkce()
        let code = try await authorizationCode(codeChallenge: challenge)
        let tokenUrl = url("/token")
        var proof = try await session.dpopProof(method: "POST", url: tokenUrl, nonce: nil)
        var (status, nonce, body) = try await exchangeCode(code, codeVerifier: verifier, dpop: proof)
        if retryWithNonce, status == 400, body["error"] as? String == "use_dpop_nonce" {
            proof = try await session.dpopProof(method: "POST", url: tokenUrl, nonce: nonce)
            (status, _, body) = try await exchangeCode(code, codeVerifier: verifier, dpop: proof)
        }
        guard status == 200, let accessToken = body["access_token"] as? String else {
            throw OidcError("the code exchange answered \(status) \(body["error"] ?? "")")
        }
        return Tokens(
            accessToken: accessToken,
            refreshToken: body["refresh_token"] as? String,
            expiresAt: (body["expires_in"] as? Int).map { Date().addingTimeInterval(Double($0)) },
            idToken: body["id_token"] as? String,
            scope: body["scope"] as? String,
            tokenType: body["token_type"] as? String
        )
    }

    private func send(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        try await withCheckedThrowingContinuation { continuation in
            http.dataTask(with: request) { data, response, error in
                if let error { return continuation.resume(throwing: error) }
                guard let response = response as? HTTPURLResponse else { return continuation.resume(throwing: URLError(.badServerResponse)) }
                continuation.resume(returning: (data ?? Data(), response))
            }.resume()
        }
    }

    /// Every `Set-Cookie` of `response` (Foundation joins repeated headers with ", ").
    private func setCookies(_ response: HTTPURLResponse) -> [String] {
        let fields = response.allHeaderFields.compactMap { key, value -> (String, String)? in
            guard let key = key as? String, let value = value as? String else { return nil }
            return (key, value)
        }
        let headers = Dictionary(fields, uniquingKeysWith: { $1 })
        let cookies = HTTPCookie.cookies(withResponseHeaderFields: headers, for: response.url ?? URL(string: issuer)!)
        return cookies.map { "\($0.name)=\($0.value)" }
    }
}

public struct OidcError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Stops every redirect: the 3xx answer itself is what the caller gets.
private final class NoRedirects: NSObject, URLSessionTaskDelegate {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// A PKCE verifier and its S256 challenge (RFC 7636).
public func pkce() -> (verifier: String, challenge: String) {
    var generator = SystemRandomNumberGenerator()
    let verifier = base64url(Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    return (verifier, base64url(sha256(Data(verifier.utf8))))
}

public func base64url(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

/// SHA-256 (FIPS 180-4), for PKCE where CryptoKit is missing (Linux).
public func sha256(_ message: Data) -> Data {
    let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
    var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    var bytes = [UInt8](message)
    let bitLength = UInt64(bytes.count) * 8
    bytes.append(0x80)
    while bytes.count % 64 != 56 { bytes.append(0) }
    for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
    func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
    var w = [UInt32](repeating: 0, count: 64)
    for chunk in stride(from: 0, to: bytes.count, by: 64) {
        for i in 0..<16 {
            let j = chunk + i * 4
            w[i] = UInt32(bytes[j]) << 24 | UInt32(bytes[j + 1]) << 16 | UInt32(bytes[j + 2]) << 8 | UInt32(bytes[j + 3])
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        for i in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        for (i, v) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ v }
    }
    return Data(h.flatMap { v in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> UInt32($0)) } })
}
