import Foundation

// The text and the retry decision come from the core (`description` is its Display,
// `isRetryable()` its rule), so Swift, Kotlin and Rust say the same words.
extension SessionError: CustomDebugStringConvertible {
    /// True when the app should show its login screen.
    public var requiresSignIn: Bool {
        switch self {
        case .notSignedIn, .sessionExpired: return true
        default: return false
        }
    }

    /// The core's text; it never contains a token.
    public var message: String { description }

    /// `localizedDescription` (through the generated `errorDescription`) shows this.
    public var debugDescription: String { description }
}
