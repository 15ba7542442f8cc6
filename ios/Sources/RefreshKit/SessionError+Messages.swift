import Foundation

extension SessionError {
    /// True when the same call may succeed later without the user signing in again.
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

    /// A sentence for logs and developer-facing UI; it never contains a token.
    public var message: String {
        switch self {
        case .NotSignedIn: return "Not signed in."
        case .SessionExpired(let reason): return "The session has expired (\(reason)). Sign in again."
        case .Network(let detail): return "Network error: \(detail)."
        case .Timeout: return "The request timed out."
        case .Store(let detail): return "The token store failed: \(detail)."
        case .InvalidConfig(let detail): return "Invalid configuration: \(detail)."
        case .InvalidRequest(let detail): return "Invalid request: \(detail)."
        case .InvalidResponse(let detail): return "The refresh endpoint answered badly: \(detail)."
        case .Cancelled: return "Cancelled."
        case .TooManyRefreshes: return "Too many token refreshes in a short time."
        case .Internal(let detail): return "Internal error: \(detail)."
        }
    }
}
