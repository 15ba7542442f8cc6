//! The token pair and the in-memory generation it belongs to.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::jwt;

/// An access token, the refresh token that renews it, and when the access token expires.
/// `Debug` and `Display` never show the secrets; Kotlin's `toString()` and Swift's
/// `description` use them too.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct Tokens {
    pub access_token: String,
    #[uniffi(default)]
    pub refresh_token: Option<String>,
    /// When the access token expires. When absent, the JWT `exp` claim is used if the
    /// access token is a JWT; otherwise expiry is found out from the server's answers.
    #[uniffi(default)]
    pub expires_at: Option<SystemTime>,
}

impl Tokens {
    pub fn new(access_token: impl Into<String>, refresh_token: Option<String>, expires_at: Option<SystemTime>) -> Self {
        Tokens { access_token: access_token.into(), refresh_token, expires_at }
    }

    /// The expiry to plan with: the explicit one, else the JWT's `exp`.
    pub(crate) fn effective_expiry(&self) -> Option<SystemTime> {
        self.expires_at.or_else(|| jwt::expiry_of(&self.access_token))
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &Redacted)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| Redacted))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl fmt::Display for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Stands in for a secret in `Debug` output.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Tokens as the engine holds them: with a generation that says which tokens a request
/// was sent with, so a late 401 for an old token never triggers a second refresh.
#[derive(Debug)]
pub(crate) struct TokenSet {
    pub tokens: Tokens,
    pub generation: u64,
    pub expires_at: Option<SystemTime>,
    received_at: SystemTime,
}

impl TokenSet {
    pub fn new(tokens: Tokens, generation: u64) -> Self {
        let expires_at = tokens.effective_expiry();
        TokenSet { tokens, generation, expires_at, received_at: SystemTime::now() }
    }

    /// True when the token was already expired when it arrived: a server handing out
    /// such tokens makes every request refresh, so those refreshes count as a loop.
    pub fn born_expired(&self) -> bool {
        self.expires_at.is_some_and(|at| at <= self.received_at)
    }

    /// True when the access token expires within `leeway` from `now`. The leeway is
    /// capped at half the token's lifetime, so a token that lives shorter than the
    /// leeway is not refreshed again on every request.
    pub fn expires_within(&self, now: SystemTime, leeway: Duration) -> bool {
        let Some(at) = self.expires_at else { return false };
        let lifetime = at.duration_since(self.received_at).unwrap_or_default();
        at <= now + leeway.min(lifetime / 2)
    }
}
