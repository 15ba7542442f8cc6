//! Which URLs the session sends to, and which may carry the token. One set of rules for
//! the first request, every redirect hop, and the platform layers (rules.rs).

use std::collections::HashSet;
use std::net::IpAddr;

use reqwest::Url;

use crate::error::SessionError;

#[derive(Debug, Clone)]
pub(crate) struct TransportRules {
    /// Lower-case host names that may receive the token.
    pub token_hosts: HashSet<String>,
    pub allow_insecure_http: bool,
}

impl TransportRules {
    /// Refuses URLs the library will not send to: other schemes, and plain http to a
    /// non-loopback host unless explicitly allowed.
    pub fn check(&self, url: &Url) -> Result<(), SessionError> {
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_insecure_http || is_loopback(url) => Ok(()),
            "http" => {
                Err(SessionError::InvalidRequest { detail: "plain http:// is only allowed to loopback hosts".into() })
            }
            _ => Err(SessionError::InvalidRequest { detail: "only http and https URLs are supported".into() }),
        }
    }

    /// Whether `url`'s host may receive the token (the transport is checked apart).
    pub fn is_token_host(&self, url: &Url) -> bool {
        url.host_str().is_some_and(|h| self.token_hosts.contains(&h.to_ascii_lowercase()))
    }

    /// Whether a request to `url` may carry the token: a token host, over an allowed transport.
    pub fn allows_token(&self, url: &Url) -> bool {
        self.check(url).is_ok() && self.is_token_host(url)
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
