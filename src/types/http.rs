//! The request and response records that cross the FFI.

use std::fmt;

#[derive(Clone, PartialEq, Eq, uniffi::Record)]
/// One HTTP header. `Debug` shows the name and the value's length only.
pub struct HttpHeader {
    /// The header's name; case does not matter.
    pub name: String,
    /// The header's value.
    pub value: String,
}

impl fmt::Debug for HttpHeader {
    /// Header values can be credentials of the app's own, so only names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: <{} bytes>", self.name, self.value.len())
    }
}

/// A request to send with the session's token.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    #[uniffi(default = "GET")]
    /// `GET`, `POST`, ...
    pub method: String,
    /// An absolute URL, or a path resolved against the base URL.
    pub url: String,
    /// The app's own headers; the token's header is added by the session.
    #[uniffi(default)]
    pub headers: Vec<HttpHeader>,
    /// The body, sent again as it is if the request is replayed after a refresh.
    #[uniffi(default)]
    pub body: Option<Vec<u8>>,
    /// This request's own bound, queueing and sending included, in place of the
    /// session's request timeout (like OkHttp's `callTimeout`).
    #[uniffi(default)]
    pub timeout_ms: Option<u64>,
}

impl HttpRequest {
    /// A `GET` of `url` (absolute, or a path under the base URL).
    pub fn get(url: impl Into<String>) -> Self {
        HttpRequest { method: "GET".into(), url: url.into(), headers: Vec::new(), body: None, timeout_ms: None }
    }

    /// A `POST` of `body` to `url`.
    pub fn post(url: impl Into<String>, body: Vec<u8>) -> Self {
        HttpRequest { method: "POST".into(), url: url.into(), headers: Vec::new(), body: Some(body), timeout_ms: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
/// The server's answer, as received (after at most one replay).
pub struct HttpResponse {
    /// The HTTP status.
    pub status: u16,
    /// The response headers whose values are text.
    pub headers: Vec<HttpHeader>,
    /// The body, at most the session's `maxResponseBytes` (10 MiB by default).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }
}
