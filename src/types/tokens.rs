//! The tokens the app and the server exchange, and the checks they pass on arrival.

use std::fmt;
use std::time::SystemTime;

use crate::types::jwt;

/// An access token, the refresh token that renews it, and when the access token expires.
/// Printing it (Rust's `Debug` and `Display`, Kotlin's `toString()`, Swift's
/// `description`, logs) never shows the secrets.
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

/// What Kotlin's `toString()` and Swift's `description` show: no Rust notation, no secret.
impl fmt::Display for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |field: &Option<String>| if field.is_some() { "<redacted>" } else { "none" };
        let text = |field: &Option<String>| field.clone().unwrap_or_else(|| "none".into());
        let expires_at = self.expires_at.map_or_else(|| "none".into(), httpdate::fmt_http_date);
        write!(
            f,
            "Tokens(accessToken=<redacted>, refreshToken={}, expiresAt={expires_at}, idToken={}, scope={}, tokenType={})",
            secret(&self.refresh_token),
            secret(&self.id_token),
            text(&self.scope),
            text(&self.token_type),
        )
    }
}

/// Stands in for a secret in `Debug` output.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
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
