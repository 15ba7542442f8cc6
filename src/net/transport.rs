//! Which URLs the session sends to, and which may carry the token. One set of rules for
//! the first request, every redirect hop, and the platform layers (api/rules.rs).

use reqwest::Url;
use url::Host;

use crate::types::error::SessionError;

#[derive(Debug, Clone)]
pub(crate) struct TransportRules {
    /// Lower-case host names that may receive the token: a few, so a list is quicker
    /// to search than a hashed set.
    pub token_hosts: Vec<String>,
    pub allow_insecure_http: bool,
}

impl TransportRules {
    /// Refuses URLs the library will not send to: other schemes, plain http to a
    /// non-loopback host unless explicitly allowed, and a user name or password in the
    /// URL (RFC 9110 section 4.2.4 deprecates them). reqwest would send those beside the
    /// token (in HTTP/2's `:authority`; as Basic credentials on the refresh call), so
    /// they are refused, not quietly dropped: the app meant something by them.
    pub fn check(&self, url: &Url) -> Result<(), SessionError> {
        if has_userinfo(url) {
            return Err(SessionError::InvalidRequest {
                detail: "the URL has a user name or password: send credentials in a header".into(),
            });
        }
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
        url.host_str().is_some_and(|h| self.token_hosts.iter().any(|t| t.eq_ignore_ascii_case(h)))
    }

    /// Whether a request to `url` may carry the token: a token host, over an allowed transport.
    pub fn allows_token(&self, url: &Url) -> bool {
        self.check(url).is_ok() && self.is_token_host(url)
    }
}

pub(crate) fn has_userinfo(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
