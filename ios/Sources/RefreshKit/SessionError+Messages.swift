import Foundation

extension SessionError: CustomStringConvertible, CustomDebugStringConvertible {
    /// True when the same call may succeed later without the user signing in again
    /// (the core's `is_retryable`).
    public var isRetryable: Bool {
        switch self {
        case .Network, .Timeout, .Store, .InvalidResponse: return true
        default: return false
        }
    }

    /// True when the app should show its login screen.
    public var requiresSignIn: Bool {
        switch self {
        case .NotSignedIn, .SessionExpired: return true
        default: return false
        }
    }

    /// The core's `Display` text, word for word; it never contains a token. UniFFI does
    /// not export `Display` for errors yet, so it is mirrored here; the generated
    /// `errorDescription` (`String(reflecting:)`), hence `localizedDescription`, shows it.
    public var message: String {
        switch self {
        case .NotSignedIn: return "not signed in"
        case .SessionExpired(let reason): return "session expired: \(reason.message)"
        case .Network(let detail): return "network error: \(detail)"
        case .Timeout: return "timed out"
        case .Store(let detail): return "token store failed: \(detail)"
        case .InvalidConfig(let detail): return "invalid configuration: \(detail)"
        case .InvalidRequest(let detail): return "invalid request: \(detail)"
        case .InvalidResponse(let detail): return "invalid response from the refresh endpoint: \(detail)"
        case .Cancelled: return "cancelled"
        case .SessionChanged: return "the session changed while the request was under way"
        case .ClientRejected(let detail): return "the auth server refused the app's client configuration: \(detail)"
        case .ResponseTooLarge(let limit): return "the response is larger than \(limit) bytes"
        case .TooManyRefreshes: return "too many refreshes in a short time"
        case .Internal(let detail): return "internal error: \(detail)"
        }
    }

    public var description: String { message }
    public var debugDescription: String { message }
}

extension ExpiryReason {
    /// The core's `Display` text.
    public var message: String {
        switch self {
        case .refreshRejected: return "the refresh token was rejected"
        case .noRefreshToken: return "there is no refresh token"
        case .removedFromStore: return "the tokens were removed from the store"
        }
    }
}
