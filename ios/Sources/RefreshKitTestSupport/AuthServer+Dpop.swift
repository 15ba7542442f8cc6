import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefreshKit

/// The login call refused a proof for another reason than a missing nonce.
public struct LoginProofRefused: Error, CustomStringConvertible {
    public let description: String
}

extension AuthServer {
    /// Logs in with tokens bound to a DPoP key: `proof` makes the login call's proof, once
    /// more with the nonce the server answers a `use_dpop_nonce` with.
    public func loginWithProof(_ proof: (_ nonce: String?) async throws -> String) async throws -> Tokens {
        var nonce: String?
        for _ in 0..<2 {
            let answer = try await postWithProof("/login", proof: try await proof(nonce))
            if answer.status == 200 {
                return Tokens(
                    accessToken: answer.json["access_token"] as! String,
                    refreshToken: answer.json["refresh_token"] as? String,
                    tokenType: answer.json["token_type"] as? String
                )
            }
            guard answer.json["error"] as? String == "use_dpop_nonce" else {
                throw LoginProofRefused(description: "the login proof was refused: \(answer.json)")
            }
            nonce = answer.nonce
        }
        throw LoginProofRefused(description: "the login needed more than one nonce")
    }

    /// POSTs to `path` with a `DPoP` proof header: the status, the `DPoP-Nonce` answered, the body.
    public func postWithProof(_ path: String, proof: String) async throws -> (status: Int, nonce: String?, json: [String: Any]) {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = "POST"
        request.setValue(proof, forHTTPHeaderField: "DPoP")
        let (data, response): (Data, HTTPURLResponse) = try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error { continuation.resume(throwing: error) } else {
                    continuation.resume(returning: (data ?? Data(), response as! HTTPURLResponse))
                }
            }.resume()
        }
        let nonce = response.allHeaderFields.first { ($0.key as? String)?.lowercased() == "dpop-nonce" }?.value as? String
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (response.statusCode, nonce, json)
    }
}

/// Wraps a key: records what it was asked to sign (each proof's header and claims) and
/// can be made to vanish (`gone`, like a key lost in a restore) or to fail (`failure`).
public final class RecordingDpopKey: DpopKey, @unchecked Sendable {
    private let inner: DpopKey
    private let lock = NSLock()
    private var seen: [String] = []
    private var isGone = false
    private var failureDetail: String?

    public init(_ inner: DpopKey) { self.inner = inner }

    public var signed: [String] { lock.lock(); defer { lock.unlock() }; return seen }
    public func makeGone() { lock.lock(); isGone = true; lock.unlock() }
    public func fail(_ detail: String?) { lock.lock(); failureDetail = detail; lock.unlock() }

    public func publicJwk() throws -> String { try inner.publicJwk() }

    public func sign(message: Data) throws -> Data {
        lock.lock()
        seen.append(String(decoding: message, as: UTF8.self))
        let (gone, failure) = (isGone, failureDetail)
        lock.unlock()
        if gone { throw DpopKeyError.gone }
        if let failure { throw DpopKeyError.failed(detail: failure) }
        return try inner.sign(message: message)
    }
}
