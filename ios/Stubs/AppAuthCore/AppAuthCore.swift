// A stand-in for AppAuth-iOS's AppAuthCore module, as far as ios/Bridges/AppAuth uses it:
// OIDTokenResponse and OIDAuthState with the names, optionality and types that Swift sees
// of AppAuth 2.x's Objective-C headers (OIDTokenResponse.h, OIDAuthState.h: nullable
// NSString becomes String?, NSDate Date?). It type-checks the bridge on Linux
// (scripts/swift-keychain-checks.sh). The `stub…` initializers are not AppAuth's API:
// AppAuth builds these objects from a server's answer, which the stub does not parse.
import Foundation

open class OIDTokenResponse: NSObject {
    open private(set) var accessToken: String?
    open private(set) var accessTokenExpirationDate: Date?
    open private(set) var tokenType: String?
    open private(set) var idToken: String?
    open private(set) var refreshToken: String?
    open private(set) var scope: String?
    open private(set) var additionalParameters: [String: NSObject & NSCopying]?

    public init(
        stubAccessToken accessToken: String?, refreshToken: String? = nil, accessTokenExpirationDate: Date? = nil,
        idToken: String? = nil, scope: String? = nil, tokenType: String? = nil
    ) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.accessTokenExpirationDate = accessTokenExpirationDate
        self.idToken = idToken
        self.scope = scope
        self.tokenType = tokenType
    }
}

open class OIDAuthState: NSObject {
    open private(set) var refreshToken: String?
    open private(set) var scope: String?
    open private(set) var lastTokenResponse: OIDTokenResponse?
    open var isAuthorized: Bool { lastTokenResponse?.accessToken != nil }

    /// AppAuth's state after `lastTokenResponse`, whose refresh token and scope are the
    /// newest unless `refreshToken` / `scope` say otherwise (a refresh answer that left
    /// them out).
    public init(stubLastTokenResponse response: OIDTokenResponse?, refreshToken: String? = nil, scope: String? = nil) {
        lastTokenResponse = response
        self.refreshToken = refreshToken ?? response?.refreshToken
        self.scope = scope ?? response?.scope
    }
}
