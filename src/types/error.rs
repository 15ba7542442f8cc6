//! The public error is small and says what the app should do; no token ever appears in
//! its text. Internal failures are mapped to it in one place per source.

use crate::types::step_up::StepUpChallenge;

/// Why the session is over and the user must sign in again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ExpiryReason {
    /// The auth server rejected the refresh token (`invalid_grant`, 400 or 401).
    RefreshRejected,
    /// The access token was rejected and there is no refresh token to renew it.
    NoRefreshToken,
    /// Another process or `Session` sharing the store signed out.
    RemovedFromStore,
    /// The DPoP key the tokens are bound to is gone (a device restored from a backup):
    /// the tokens can never be used again.
    DpopKeyGone,
}

impl std::fmt::Display for ExpiryReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ExpiryReason::RefreshRejected => "the refresh token was rejected",
            ExpiryReason::NoRefreshToken => "there is no refresh token",
            ExpiryReason::RemovedFromStore => "the tokens were removed from the store",
            ExpiryReason::DpopKeyGone => "the DPoP key the tokens are bound to is gone",
        })
    }
}

/// What went wrong, phrased as what the app should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum SessionError {
    /// No user is signed in: show the login screen.
    #[error("not signed in")]
    NotSignedIn,
    /// The session is over: show the login screen.
    #[error("session expired: {reason}")]
    SessionExpired {
        /// Why it is over.
        reason: ExpiryReason,
    },
    /// A network failure; retrying later may succeed. The tokens are kept.
    #[error("network error: {detail}")]
    Network {
        /// What failed, without URLs or tokens.
        detail: String,
    },
    /// A request or the refresh took longer than its timeout; retrying may succeed.
    #[error("timed out")]
    Timeout,
    /// The app's token store failed; the session stays as it was.
    #[error("token store failed: {detail}")]
    Store {
        /// What the store said.
        detail: String,
    },
    /// The configuration cannot work; fix it in code.
    #[error("invalid configuration: {detail}")]
    InvalidConfig {
        /// Which setting, and why.
        detail: String,
    },
    /// The request cannot be sent as given (bad URL, method or header).
    #[error("invalid request: {detail}")]
    InvalidRequest {
        /// What is wrong with it.
        detail: String,
    },
    /// The refresh endpoint answered with something unreadable; retrying may succeed.
    #[error("invalid response from the refresh endpoint: {detail}")]
    InvalidResponse {
        /// What was wrong with the answer.
        detail: String,
    },
    /// The call was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The user signed out, or another user signed in, after this request started: it
    /// was not sent (again) with the new session's token. Send it again if it still
    /// makes sense for the user now signed in.
    #[error("the session changed while the request was under way")]
    SessionChanged,
    /// The auth server refused the app's client or scope (`invalid_client`,
    /// `unauthorized_client`, `invalid_scope`, ...): a mistake in the app's configuration
    /// that signing in again would not fix. The tokens are kept.
    #[error("the auth server refused the app's client configuration: {detail}")]
    ClientRejected {
        /// The server's error code, like `invalid_client`.
        detail: String,
    },
    /// The server's answer was larger than the session accepts (`maxResponseBytes`,
    /// or 64 KiB for the refresh endpoint).
    #[error("the response is larger than {limit_bytes} bytes")]
    ResponseTooLarge {
        /// The limit the answer went past.
        limit_bytes: u64,
    },
    /// The refresh guard tripped: too many successful refreshes in a short window,
    /// which means the server keeps rejecting fresh tokens.
    #[error("too many refreshes in a short time")]
    TooManyRefreshes,
    /// The app's DPoP key could not sign (or its public key is unusable); the tokens are
    /// kept and a later call may succeed (a key in locked hardware, for example).
    #[error("the DPoP key failed: {detail}")]
    DpopKey {
        /// What the key said; never key material.
        detail: String,
    },
    /// A bug in refreshkit; please report it.
    #[error("internal error: {detail}")]
    Internal {
        /// What went wrong.
        detail: String,
    },
    /// The resource server wants a step-up login (RFC 9470 `insufficient_user_authentication`,
    /// RFC 6750 `insufficient_scope`): run the app's login with the challenge's parameters,
    /// then `signIn` with its tokens. Nothing was refreshed; the tokens and the session
    /// stay as they are.
    #[error("the server wants a step-up login: {}", challenge.reason)]
    StepUpRequired {
        /// What the server asked for.
        challenge: StepUpChallenge,
    },
}

#[uniffi::export]
impl SessionError {
    /// True when the same call may succeed later without the user signing in again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SessionError::Network { .. }
                | SessionError::Timeout
                | SessionError::Store { .. }
                | SessionError::InvalidResponse { .. }
                | SessionError::DpopKey { .. }
        )
    }
}

impl SessionError {
    /// Maps a transport error. reqwest's text can carry the URL, so it is left out.
    pub(crate) fn from_transport(e: &reqwest::Error) -> SessionError {
        if e.is_timeout() {
            return SessionError::Timeout;
        }
        let kind = if rejected_certificate(e) {
            "the server's TLS certificate is not trusted"
        } else if e.is_connect() {
            "connection failed"
        } else if e.is_body() || e.is_decode() {
            "the response body could not be read"
        } else if e.is_redirect() {
            "too many redirects"
        } else if e.is_builder() {
            return SessionError::InvalidRequest { detail: "the request could not be built".into() };
        } else {
            "the request could not be sent"
        };
        SessionError::Network { detail: kind.into() }
    }
}

/// Whether a TLS certificate check failed somewhere in the error's causes. io::Error
/// hides its inner error from `source()`, so the walk steps into it explicitly.
fn rejected_certificate(e: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if matches!(c.downcast_ref::<rustls::Error>(), Some(rustls::Error::InvalidCertificate(_))) {
            return true;
        }
        cause = match c.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner),
            None => c.source(),
        };
    }
    false
}

/// An error thrown by the app's `TokenStore`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum StoreError {
    /// The store cannot be read now (for example the Keychain before first unlock).
    #[error("the token store is locked")]
    Locked,
    /// Any other failure.
    #[error("{detail}")]
    Failed {
        /// What failed, for the logs; never a token.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for StoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        StoreError::Failed { detail: e.reason }
    }
}

impl From<StoreError> for SessionError {
    fn from(e: StoreError) -> Self {
        SessionError::Store { detail: e.to_string() }
    }
}

/// An error thrown by the app's listener or logger; refreshkit logs it and goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum CallbackError {
    /// The callback failed; `detail` goes to the log.
    #[error("{detail}")]
    Failed {
        /// What failed.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CallbackError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        CallbackError::Failed { detail: e.reason }
    }
}
