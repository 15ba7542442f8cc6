//! The session's rules for requests the app sends itself (the OkHttp interceptor,
//! `AuthorizedURLSession`): which URL may carry the token, in which header, and which
//! answer means "expired". The platform layers ask these instead of copying them, so
//! every language follows the configuration the core follows.

use reqwest::Url;

use crate::api::session::Session;
use crate::types::http::HttpHeader;

#[uniffi::export]
impl Session {
    /// The header carrying `access_token` for a request to `url`, or nothing (null / nil) when `url`
    /// may not receive the token: another host, plain `http://` off loopback (unless
    /// `allowInsecureHttp`), a scheme other than http(s), or a value no header can carry.
    /// Ask it for every hop of a redirect too.
    pub fn token_header_for(&self, url: String, access_token: String) -> Option<HttpHeader> {
        let settings = &self.engine().settings;
        let url = Url::parse(&url).ok()?;
        if !settings.transport.allows_token(&url) {
            return None;
        }
        let value = settings.authorization(&access_token).ok()?;
        Some(HttpHeader { name: settings.header_name.as_str().to_owned(), value: value.to_str().ok()?.to_owned() })
    }

    /// Whether a request to `url` may carry the token: a token host, over https (or plain
    /// http only to loopback, unless `allowInsecureHttp`). Cheap; no token is fetched.
    pub fn may_receive_token(&self, url: String) -> bool {
        Url::parse(&url).is_ok_and(|url| self.engine().settings.transport.allows_token(&url))
    }

    /// The name of the header the session puts the token in (lower case), so a layer
    /// can remove exactly what it added.
    pub fn token_header_name(&self) -> String {
        self.engine().settings.header_name.as_str().to_owned()
    }

    /// Whether an answer to a request that carried the token means the token expired:
    /// one of `expiredStatuses`, or a body matching `expiredBodyRule`. It sees no
    /// headers: ask `answerMeans` for an answer with `WWW-Authenticate`, which may be a
    /// step-up challenge instead.
    pub fn is_expired_response(&self, status: u16, body: Vec<u8>) -> bool {
        self.engine().settings.means_expired(status, &body)
    }

    /// Whether `isExpiredResponse` looks at the body (an `expiredBodyRule` is set):
    /// when false, layers need not read the body to decide.
    pub fn expiry_reads_body(&self) -> bool {
        self.engine().settings.expired_body_rule.is_some()
    }
}
