//! The engine's settings: a `SessionConfig` checked at the door (api/config.rs), and the
//! rules they decide: where the token goes, in which header, and which answer means
//! "expired".

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Url;
use serde_json::Value;

use crate::net::transport::TransportRules;
use crate::types::error::SessionError;
use crate::types::tokens::Redacted;

/// Bodies larger than this are not parsed for the expiry rule.
const MAX_RULE_BODY: usize = 256 * 1024;

/// How to renew tokens at the refresh endpoint.
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum RefreshProtocol {
    /// RFC 6749 section 6: a form-encoded `grant_type=refresh_token` request; the answer
    /// has `access_token`, and optionally `refresh_token` and `expires_in`.
    OAuth2 {
        /// Sent as `client_id` for clients that identify themselves; absent for none.
        client_id: Option<String>,
        /// Sent as `client_secret` in the form (`client_secret_post`); absent for
        /// public clients, which mobile apps usually are.
        client_secret: Option<String>,
        /// Sent as `scope` to narrow the new access token; absent keeps the grant's scope.
        scope: Option<String>,
        /// Send `client_id` and `client_secret` with HTTP Basic (`client_secret_basic`,
        /// RFC 6749 section 2.3.1, which every server must accept) instead of in the form.
        #[uniffi(default = false)]
        basic_auth: bool,
    },
    /// A JSON body with the refresh token under the field named here, plus the extra
    /// fields; the answer is read with JSON pointers (RFC 6901, like `/data/token`).
    Json {
        /// The JSON field that carries the refresh token, like `refreshToken`.
        refresh_token_field: String,
        /// Other fields sent with it, like a client credential.
        extra_fields: HashMap<String, String>,
        /// Where the answer has the new access token.
        access_token_pointer: String,
        /// Where the answer has a rotated refresh token, if it rotates them.
        refresh_token_pointer: Option<String>,
        /// Where the answer has the access token's lifetime in seconds, if it says.
        expires_in_pointer: Option<String>,
    },
}

impl fmt::Debug for RefreshProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshProtocol::OAuth2 { client_id, client_secret, scope, basic_auth } => f
                .debug_struct("OAuth2")
                .field("client_id", client_id)
                .field("client_secret", &client_secret.as_ref().map(|_| Redacted))
                .field("scope", scope)
                .field("basic_auth", basic_auth)
                .finish(),
            RefreshProtocol::Json { refresh_token_field, extra_fields, access_token_pointer, .. } => f
                .debug_struct("Json")
                .field("refresh_token_field", refresh_token_field)
                .field("extra_fields", &extra_fields.keys().collect::<Vec<_>>())
                .field("access_token_pointer", access_token_pointer)
                .finish_non_exhaustive(),
        }
    }
}

/// A response counts as "token expired" when the JSON value at `pointer` equals one of
/// `values` (compared as text, so `1002` matches the number 1002).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BodyRule {
    /// A JSON pointer (RFC 6901) into the response body, like `/code`.
    pub pointer: String,
    /// The values at `pointer` that mean "expired", like `1002`.
    pub values: Vec<String>,
}

/// A checked `SessionConfig`: what the engine runs on.
#[derive(Debug)]
pub(crate) struct Settings {
    pub base_url: Url,
    pub refresh_url: Url,
    pub request_timeout: Duration,
    pub refresh_timeout: Duration,
    pub store_timeout: Duration,
    pub protocol: RefreshProtocol,
    pub expired_statuses: Vec<u16>,
    pub expired_body_rule: Option<BodyRule>,
    pub leeway: Duration,
    pub header_name: HeaderName,
    pub header_scheme: String,
    pub transport: TransportRules,
    pub max_refreshes: u32,
    pub refresh_window: Duration,
    pub max_concurrent_requests: usize,
    pub max_response_bytes: u64,
    /// Where `sign_out` revokes the refresh token (RFC 7009); `None`: nowhere.
    pub revocation_url: Option<Url>,
}

impl Settings {
    pub fn check_transport(&self, url: &Url) -> Result<(), SessionError> {
        self.transport.check(url)
    }

    /// Whether the server said the access token has expired.
    pub fn means_expired(&self, status: u16, body: &[u8]) -> bool {
        self.expired_statuses.contains(&status)
            || self.expired_body_rule.as_ref().is_some_and(|rule| body_matches(rule, body))
    }

    /// The header value for `access_token`.
    pub fn authorization(&self, access_token: &str) -> Result<HeaderValue, SessionError> {
        authorization_with(&self.header_scheme, access_token)
    }

    /// The longest a request waits on a refresh: the refresh timeout, plus one store
    /// read before the call.
    pub fn refresh_wait_bound(&self) -> Duration {
        self.refresh_timeout + self.store_timeout
    }

    /// The refresh call itself may outlive its waiters: a slow answer still carries
    /// tokens the server has already rotated, and losing them would end the session.
    pub fn refresh_call_limit(&self) -> Duration {
        self.refresh_timeout * 4
    }
}

/// The token header's value: `scheme token`, or the bare token for an empty scheme.
/// Marked sensitive, so HTTP/2 never indexes it.
pub(crate) fn authorization_with(scheme: &str, access_token: &str) -> Result<HeaderValue, SessionError> {
    let text = if scheme.is_empty() { access_token.to_owned() } else { format!("{scheme} {access_token}") };
    let mut value = HeaderValue::from_str(&text).map_err(|_| SessionError::InvalidResponse {
        detail: "the access token has characters a header cannot carry".into(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Whether `body` is JSON whose value at the rule's pointer is one of its values.
pub(crate) fn body_matches(rule: &BodyRule, body: &[u8]) -> bool {
    if body.is_empty() || body.len() > MAX_RULE_BODY {
        return false;
    }
    let Ok(json) = serde_json::from_slice::<Value>(body) else { return false };
    let found = match json.pointer(&rule.pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
        _ => return false,
    };
    rule.values.contains(&found)
}
