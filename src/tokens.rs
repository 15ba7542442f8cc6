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
    /// Sent with every request.
    pub access_token: String,
    /// Renews the access token; without it, a rejected token ends the session.
    #[uniffi(default)]
    pub refresh_token: Option<String>,
    /// When the access token expires. When absent, the JWT `exp` claim is used if the
    /// access token is a JWT; otherwise expiry is found out from the server's answers.
    #[uniffi(default)]
    pub expires_at: Option<SystemTime>,
    /// The OpenID Connect ID token of the last answer that had one (the user's identity,
    /// for the app to read); kept and saved with the others, never sent by refreshkit.
    #[uniffi(default)]
    pub id_token: Option<String>,
}

impl Tokens {
    /// Tokens as the login answer gave them.
    pub fn new(access_token: impl Into<String>, refresh_token: Option<String>, expires_at: Option<SystemTime>) -> Self {
        Tokens { access_token: access_token.into(), refresh_token, expires_at, id_token: None }
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
            .field("id_token", &self.id_token.as_ref().map(|_| Redacted))
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
/// was sent with, so a late 401 for an old token never triggers a second refresh, and
/// the epoch (sign-in) they belong to, so one user's request never carries another's.
#[derive(Debug)]
pub(crate) struct TokenSet {
    pub tokens: Tokens,
    pub generation: u64,
    pub epoch: u64,
    /// Issued by a refresh (not signed in, nor read from the store).
    pub from_refresh: bool,
    pub expires_at: Option<SystemTime>,
    received_at: SystemTime,
}

impl TokenSet {
    pub fn new(tokens: Tokens, generation: u64, epoch: u64, from_refresh: bool) -> Self {
        let expires_at = tokens.effective_expiry();
        TokenSet { tokens, generation, epoch, from_refresh, expires_at, received_at: SystemTime::now() }
    }

    /// True when the token was already expired when it arrived.
    pub fn born_expired(&self) -> bool {
        self.expires_at.is_some_and(|at| at <= self.received_at)
    }

    /// True when the access token expires within `leeway` from `now`. The leeway is
    /// capped at half the token's lifetime, so a token that lives shorter than the
    /// leeway is not refreshed again on every request. A token a refresh just issued
    /// already expired says the device's clock is off: it is sent, and the server's
    /// answer decides (refreshing it again at once would loop).
    pub fn expires_within(&self, now: SystemTime, leeway: Duration) -> bool {
        let Some(at) = self.expires_at else { return false };
        if self.from_refresh && self.born_expired() {
            return false;
        }
        let lifetime = at.duration_since(self.received_at).unwrap_or_default();
        at <= now + leeway.min(lifetime / 2)
    }
}

/// Whether `token` can go in an HTTP header: visible ASCII only (RFC 6750's token68 and
/// every real-world token fit). Checked when tokens arrive, so a token that could never
/// be sent is never stored.
pub(crate) fn is_sendable(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Whether `tokens` can be used: a sendable access token, and a refresh token without
/// control characters.
pub(crate) fn check_usable(tokens: &Tokens) -> Result<(), &'static str> {
    if !is_sendable(&tokens.access_token) {
        return Err("the access token is empty or has characters a header cannot carry");
    }
    if tokens.refresh_token.as_deref().is_some_and(|r| r.is_empty() || r.chars().any(char::is_control)) {
        return Err("the refresh token is empty or has control characters");
    }
    Ok(())
}
