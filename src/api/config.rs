//! What the app configures, checked at the door into the engine's `Settings`.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Url;

use crate::engine::settings::{BodyRule, RefreshProtocol, Settings};
use crate::net::transport::{has_userinfo, TransportRules};
use crate::types::error::SessionError;

/// Everything a session needs. Only the base URL is required; every other setting has a
/// default.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionConfig {
    /// Requests given as a path are resolved against it; its host may receive the token.
    pub base_url: String,
    /// Path (or absolute URL) of the refresh endpoint.
    #[uniffi(default = "/oauth/token")]
    pub refresh_path: String,
    #[uniffi(default = 30000)]
    /// Bound on each request, from waiting for a place on the wire to the last byte of
    /// the answer (a request's own timeout overrides it).
    pub request_timeout_ms: u64,
    /// How long requests wait for a refresh. The refresh call itself is given four
    /// times as long in the background, so rotated tokens from a slow server are kept.
    #[uniffi(default = 15000)]
    pub refresh_timeout_ms: u64,
    /// Bound on each call into the app's `TokenStore`.
    #[uniffi(default = 10000)]
    pub store_timeout_ms: u64,
    /// When not set: OAuth 2.0 with no client credentials.
    #[uniffi(default)]
    pub refresh_protocol: Option<RefreshProtocol>,
    /// HTTP statuses that mean "the access token expired". When not set: 401 only.
    #[uniffi(default)]
    pub expired_statuses: Option<Vec<u16>>,
    /// A body rule that also means "expired", for APIs that answer 200 `{"code": 1002}`.
    #[uniffi(default)]
    pub expired_body_rule: Option<BodyRule>,
    /// Refresh before a request when the access token expires within this time.
    #[uniffi(default = 60000)]
    pub refresh_leeway_ms: u64,
    #[uniffi(default = "Authorization")]
    /// The header that carries the token.
    pub header_name: String,
    /// Put before the token in the header; empty sends the bare token.
    #[uniffi(default = "Bearer")]
    pub header_scheme: String,
    /// Hosts besides the base URL's host that may receive the token.
    #[uniffi(default)]
    pub token_hosts: Vec<String>,
    /// Allow plain `http://` to hosts other than loopback. Never do this in production.
    #[uniffi(default = false)]
    pub allow_insecure_http: bool,
    /// The refresh guard's backstop: at most this many refreshes after a rejected token
    /// per window. The guard itself trips on a loop (3 fresh tokens in a row rejected
    /// before they served a request); this cap only catches what that cannot, so it
    /// lets tokens that live a second run.
    #[uniffi(default = 30)]
    pub max_refreshes_per_window: u32,
    /// The backstop's window, and how long the tripped guard waits before one more try.
    #[uniffi(default = 30000)]
    pub refresh_window_ms: u64,
    /// Requests on the wire at once; the rest queue, as in OkHttp's dispatcher.
    #[uniffi(default = 64)]
    pub max_concurrent_requests: u32,
    /// The largest response body `execute` reads; a larger one fails with
    /// `ResponseTooLarge`. 10 MiB by default.
    #[uniffi(default = 10485760)]
    pub max_response_bytes: u64,
    /// Path (or absolute URL) of the revocation endpoint (RFC 7009), like
    /// `/oauth/revoke`: `signOut` then also revokes the refresh token there, in the
    /// background, once the local sign-out is done. When not set: no revocation. Needs the
    /// OAuth 2.0 refresh protocol, whose client authentication it uses.
    #[uniffi(default)]
    pub revocation_path: Option<String>,
}

impl SessionConfig {
    /// A configuration with every default, for the API at the given base URL.
    pub fn new(base_url: impl Into<String>) -> Self {
        SessionConfig {
            base_url: base_url.into(),
            refresh_path: "/oauth/token".into(),
            request_timeout_ms: 30_000,
            refresh_timeout_ms: 15_000,
            store_timeout_ms: 10_000,
            refresh_protocol: None,
            expired_statuses: None,
            expired_body_rule: None,
            refresh_leeway_ms: 60_000,
            header_name: "Authorization".into(),
            header_scheme: "Bearer".into(),
            token_hosts: Vec::new(),
            allow_insecure_http: false,
            max_refreshes_per_window: 30,
            refresh_window_ms: 30_000,
            max_concurrent_requests: 64,
            max_response_bytes: 10 * 1024 * 1024,
            revocation_path: None,
        }
    }
}

fn invalid(detail: impl Into<String>) -> SessionError {
    SessionError::InvalidConfig { detail: detail.into() }
}

impl SessionConfig {
    /// The checked form the engine runs on, or why this configuration is not one.
    pub(crate) fn into_settings(self) -> Result<Settings, SessionError> {
        let c = self;
        let base_url = Url::parse(&c.base_url).map_err(|e| invalid(format!("base_url: {e}")))?;
        let refresh_url = base_url.join(&c.refresh_path).map_err(|e| invalid(format!("refresh_path: {e}")))?;
        let revocation_url = match &c.revocation_path {
            Some(path) => Some(base_url.join(path).map_err(|e| invalid(format!("revocation_path: {e}")))?),
            None => None,
        };
        for (name, ms) in [
            ("request_timeout_ms", c.request_timeout_ms),
            ("refresh_timeout_ms", c.refresh_timeout_ms),
            ("store_timeout_ms", c.store_timeout_ms),
            ("refresh_window_ms", c.refresh_window_ms),
        ] {
            if ms == 0 {
                return Err(invalid(format!("{name} must be above 0")));
            }
        }
        if c.max_concurrent_requests == 0 || c.max_refreshes_per_window == 0 {
            return Err(invalid("max_concurrent_requests and max_refreshes_per_window must be above 0"));
        }
        let header_name = HeaderName::from_bytes(c.header_name.as_bytes())
            .map_err(|_| invalid("header_name is not a valid HTTP header name"))?;
        if HeaderValue::from_str(&c.header_scheme).is_err() || c.header_scheme.contains(' ') {
            return Err(invalid("header_scheme must be one word of visible characters"));
        }
        let expired_statuses = c.expired_statuses.unwrap_or_else(|| vec![401]);
        if expired_statuses.iter().any(|s| !(100..=599).contains(s)) {
            return Err(invalid("expired_statuses must be HTTP statuses (100 to 599)"));
        }
        if let Some(rule) = &c.expired_body_rule {
            check_pointer("expired_body_rule.pointer", &rule.pointer)?;
        }
        let protocol = c.refresh_protocol.unwrap_or(RefreshProtocol::OAuth2 {
            client_id: None,
            client_secret: None,
            scope: None,
            basic_auth: false,
        });
        if let RefreshProtocol::Json {
            refresh_token_field,
            access_token_pointer,
            refresh_token_pointer,
            expires_in_pointer,
            ..
        } = &protocol
        {
            if refresh_token_field.is_empty() {
                return Err(invalid("refresh_token_field must not be empty"));
            }
            check_pointer("access_token_pointer", access_token_pointer)?;
            for p in [refresh_token_pointer, expires_in_pointer].into_iter().flatten() {
                check_pointer("refresh/expires pointer", p)?;
            }
            if revocation_url.is_some() {
                return Err(invalid("revocation_path needs the OAuth 2.0 refresh protocol (RFC 7009 is OAuth's)"));
            }
        }
        let base_host = base_url.host_str().ok_or_else(|| invalid("base_url has no host"))?;
        let mut token_hosts: Vec<String> =
            c.token_hosts.iter().map(|h| h.trim()).chain([base_host]).map(str::to_ascii_lowercase).collect();
        token_hosts.sort_unstable();
        token_hosts.dedup();
        let settings = Settings {
            base_url,
            refresh_url,
            request_timeout: Duration::from_millis(c.request_timeout_ms),
            refresh_timeout: Duration::from_millis(c.refresh_timeout_ms),
            store_timeout: Duration::from_millis(c.store_timeout_ms),
            protocol,
            expired_statuses,
            expired_body_rule: c.expired_body_rule,
            leeway: Duration::from_millis(c.refresh_leeway_ms),
            header_name,
            header_scheme: c.header_scheme,
            transport: TransportRules { token_hosts, allow_insecure_http: c.allow_insecure_http },
            max_refreshes: c.max_refreshes_per_window,
            refresh_window: Duration::from_millis(c.refresh_window_ms),
            max_concurrent_requests: c.max_concurrent_requests as usize,
            max_response_bytes: c.max_response_bytes,
            revocation_url,
        };
        if has_userinfo(&settings.base_url) || has_userinfo(&settings.refresh_url) {
            return Err(invalid("base_url and refresh_path must not have a user name or password"));
        }
        settings.check_transport(&settings.base_url).map_err(|_| {
            invalid("base_url must be https:// (plain http:// only on loopback or with allow_insecure_http)")
        })?;
        settings.check_transport(&settings.refresh_url).map_err(|_| invalid("refresh URL must be https://"))?;
        if let Some(url) = &settings.revocation_url {
            if has_userinfo(url) {
                return Err(invalid("revocation_path must not have a user name or password"));
            }
            settings.check_transport(url).map_err(|_| invalid("revocation URL must be https://"))?;
        }
        Ok(settings)
    }
}

fn check_pointer(what: &str, pointer: &str) -> Result<(), SessionError> {
    if pointer.is_empty() || pointer.starts_with('/') {
        Ok(())
    } else {
        Err(invalid(format!("{what} must be a JSON pointer starting with '/'")))
    }
}

/// A configuration with every default, for the API at the given base URL: what the
/// generated constructors give, so the Kotlin and Swift suites check theirs against it.
#[uniffi::export]
pub fn default_session_config(base_url: String) -> SessionConfig {
    SessionConfig::new(base_url)
}
