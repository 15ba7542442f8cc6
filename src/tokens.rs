//! The token pair and the in-memory generation it belongs to.

use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;

use crate::error::SessionError;

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
    /// The scope the server granted (`scope` of the answer; RFC 6749 section 5.1), kept
    /// from the previous answer when a refresh answer leaves it out (same scope).
    #[uniffi(default)]
    pub scope: Option<String>,
    /// The answer's `token_type` (`Bearer` for most servers), kept like `scope`.
    #[uniffi(default)]
    pub token_type: Option<String>,
}

impl Tokens {
    /// Tokens as the login answer gave them.
    pub fn new(access_token: impl Into<String>, refresh_token: Option<String>, expires_at: Option<SystemTime>) -> Self {
        Tokens {
            access_token: access_token.into(),
            refresh_token,
            expires_at,
            id_token: None,
            scope: None,
            token_type: None,
        }
    }

    /// Fills in what a refresh answer left out from the tokens it renewed: servers that do
    /// not rotate, or send no new ID token, scope or type, leave the old ones valid.
    pub(crate) fn keep_from(&mut self, previous: &Tokens) {
        let keep = |field: &mut Option<String>, old: &Option<String>| {
            if field.is_none() {
                field.clone_from(old);
            }
        };
        keep(&mut self.refresh_token, &previous.refresh_token);
        keep(&mut self.id_token, &previous.id_token);
        keep(&mut self.scope, &previous.scope);
        keep(&mut self.token_type, &previous.token_type);
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
            .field("scope", &self.scope)
            .field("token_type", &self.token_type)
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
    /// The token's header value, built by the first request that sends it.
    header: OnceLock<HeaderValue>,
}

impl TokenSet {
    pub fn new(tokens: Tokens, generation: u64, epoch: u64, from_refresh: bool) -> Self {
        let expires_at = tokens.effective_expiry();
        let received_at = crate::clock::now();
        TokenSet { tokens, generation, epoch, from_refresh, expires_at, received_at, header: OnceLock::new() }
    }

    /// The header value carrying the access token, made by `build` once per token: every
    /// request with this token sends the same value.
    pub fn header(
        &self,
        build: impl FnOnce(&str) -> Result<HeaderValue, SessionError>,
    ) -> Result<HeaderValue, SessionError> {
        if let Some(value) = self.header.get() {
            return Ok(value.clone());
        }
        let value = build(&self.tokens.access_token)?;
        Ok(self.header.get_or_init(|| value).clone())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_answer_keeps_what_it_leaves_out_and_replaces_what_it_sends() {
        let mut old = Tokens::new("a1", Some("r1".into()), None);
        old.id_token = Some("id1".into());
        old.scope = Some("openid api".into());
        old.token_type = Some("Bearer".into());
        let mut fresh = Tokens::new("a2", None, None);
        fresh.scope = Some("api".into());

        fresh.keep_from(&old);

        assert_eq!(fresh.refresh_token.as_deref(), Some("r1"));
        assert_eq!(fresh.id_token.as_deref(), Some("id1"));
        assert_eq!(fresh.scope.as_deref(), Some("api"), "a narrowed scope replaces the old one");
        assert_eq!(fresh.token_type.as_deref(), Some("Bearer"));
    }
}
