//! What a resource server asks of the login before it serves a request: a stronger or
//! more recent authentication (RFC 9470) or a token with more scope (RFC 6750 section
//! 3.1). The token is not expired, so nothing is refreshed: the app runs a login that
//! asks for these, then signs in with its tokens.

/// Why a resource server wants a step-up login: the `error` of its challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StepUpReason {
    /// `insufficient_user_authentication` (RFC 9470): the user must authenticate again,
    /// more strongly (`acr_values`) or more recently (`max_age`).
    InsufficientUserAuthentication,
    /// `insufficient_scope` (RFC 6750): the token lacks a scope the request needs (`scope`).
    InsufficientScope,
}

impl StepUpReason {
    /// The challenge's `error` value.
    pub(crate) fn code(self) -> &'static str {
        match self {
            StepUpReason::InsufficientUserAuthentication => "insufficient_user_authentication",
            StepUpReason::InsufficientScope => "insufficient_scope",
        }
    }
}

impl std::fmt::Display for StepUpReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A resource server's `WWW-Authenticate` challenge asking for a step-up login: pass its
/// parameters to the authorization request of the app's login (`acr_values`, `max_age`,
/// `scope`), then `sign_in` with the tokens it gives.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StepUpChallenge {
    /// What the server wants.
    pub reason: StepUpReason,
    /// The authentication context classes to ask for, space-separated, like
    /// `urn:example:mfa` (RFC 9470 `acr_values`).
    pub acr_values: Option<String>,
    /// The most seconds since the user last authenticated that the server accepts (RFC
    /// 9470 `max_age`).
    pub max_age: Option<u64>,
    /// The scope the request needs, space-separated (RFC 6750 `scope`).
    pub scope: Option<String>,
}
