import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension HTTPURLResponse {
    /// The step-up login this answer asks for, or nil: a 401 or 403 whose Bearer or DPoP
    /// challenge says `insufficient_user_authentication` (RFC 9470: `acrValues`, `maxAge`)
    /// or `insufficient_scope` (RFC 6750: `scope`). `AuthorizedURLSession` returns such an
    /// answer as it is, refreshing nothing: run the app's login with these parameters,
    /// `signIn` with its tokens, and send the request again. (`execute` throws
    /// `SessionError.stepUpRequired` with the same challenge instead.)
    public var stepUpChallenge: StepUpChallenge? {
        // URLSession joins repeated fields with ", ", which keeps every challenge readable.
        guard let challenges = value(forHTTPHeaderField: "WWW-Authenticate") else { return nil }
        let headers = [HttpHeader(name: "WWW-Authenticate", value: challenges)]
        return parseStepUpChallenge(status: UInt16(clamping: statusCode), headers: headers)
    }
}
