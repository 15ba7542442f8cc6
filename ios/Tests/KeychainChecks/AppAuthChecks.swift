import AppAuthCore
import Foundation
import RefreshKit

// ios/Bridges/AppAuth against the stub AppAuthCore: which AppAuth field becomes which
// `Tokens` field, what is refused, and a sign-in whose tokens the requests then carry.
// What AppAuth itself puts in those fields (its parsing of the server's answer, its
// expiry arithmetic) is AppAuth's, and is not checked here.
func appAuthChecks() {
    let expiry = Date(timeIntervalSince1970: 1_767_225_600)

    check("AppAuth: every field of a token response reaches Tokens") {
        let response = OIDTokenResponse(
            stubAccessToken: "access-1", refreshToken: "refresh-1", accessTokenExpirationDate: expiry,
            idToken: "id-1", scope: "openid profile", tokenType: "Bearer"
        )
        let tokens = try Tokens(response)
        try expect(tokens == Tokens(
            accessToken: "access-1", refreshToken: "refresh-1", expiresAt: expiry,
            idToken: "id-1", scope: "openid profile", tokenType: "Bearer"
        ), "the tokens differ from the response: \(tokens)")
    }

    check("AppAuth: a state's newest refresh token and scope win over its last response's") {
        let refreshed = OIDTokenResponse(stubAccessToken: "access-2", accessTokenExpirationDate: expiry)
        let state = OIDAuthState(stubLastTokenResponse: refreshed, refreshToken: "refresh-1", scope: "openid")
        let tokens = try Tokens(state)
        try expect(tokens.accessToken == "access-2" && tokens.expiresAt == expiry, "the last response's access token and expiry")
        try expect(tokens.refreshToken == "refresh-1" && tokens.scope == "openid", "the state's refresh token and scope")
    }

    check("AppAuth: a response without an access token, or a state without a response, is refused with invalidRequest") {
        for made in [
            { try Tokens(OIDTokenResponse(stubAccessToken: nil, refreshToken: "refresh-secret")) },
            { try Tokens(OIDTokenResponse(stubAccessToken: "", refreshToken: "refresh-secret")) },
            { try Tokens(OIDAuthState(stubLastTokenResponse: nil, refreshToken: "refresh-secret")) },
        ] as [() throws -> Tokens] {
            do {
                _ = try made()
                throw CheckFailure(description: "tokens without an access token were made")
            } catch SessionError.invalidRequest(let detail) {
                try expect(!detail.contains("secret"), "the error carries a token: \(detail)")
            }
        }
    }

    checkAsync("AppAuth: signIn(with:) signs in with the AppAuth state's tokens, and requests carry them") {
        let server = try AuthServer()
        let login = try await server.login()
        let state = OIDAuthState(stubLastTokenResponse: OIDTokenResponse(
            stubAccessToken: login.accessToken, refreshToken: login.refreshToken, tokenType: "Bearer"
        ))
        let store = FlakyStore()
        let session = try Session(config: SessionConfig(baseUrl: server.baseURL), store: store)
        try await session.signIn(with: state)
        try expect(store.tokens?.accessToken == login.accessToken && store.tokens?.refreshToken == login.refreshToken, "the store holds the AppAuth tokens")
        let status = try await session.execute(HttpRequest(url: "/api/resource")).status
        try expect(status == 200, "a request after the hand-over answered \(status)")
        try await server.expireAll()
        let afterExpiry = try await session.execute(HttpRequest(url: "/api/resource")).status
        let refreshes = try await server.stat("refreshes")
        try expect(afterExpiry == 200 && refreshes == 1, "refreshkit refreshed with AppAuth's refresh token: \(afterExpiry), \(refreshes) refreshes")
    }
}
