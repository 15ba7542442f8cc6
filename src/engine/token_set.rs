//! Tokens as the engine holds them in memory, with the generation and sign-in they
//! belong to.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;

use crate::types::error::SessionError;
use crate::types::tokens::Tokens;

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
        let received_at = crate::foundation::clock::now();
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
