//! The request and response records that cross the FFI, and their checked form.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use crate::config::Settings;
use crate::error::SessionError;

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
    /// session's `request_timeout_ms` (like OkHttp's `callTimeout`).
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
    /// The body, at most `max_response_bytes`.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }
}

/// A request checked once and kept for a possible replay; the body is shared, not copied.
pub(crate) struct Prepared {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    pub carries_token: bool,
    /// The bound on each send, queueing included.
    pub timeout: Duration,
}

fn bad(detail: impl Into<String>) -> SessionError {
    SessionError::InvalidRequest { detail: detail.into() }
}

impl Prepared {
    pub fn new(settings: &Settings, request: HttpRequest) -> Result<Prepared, SessionError> {
        let method = Method::from_bytes(request.method.as_bytes()).map_err(|_| bad("invalid method"))?;
        if request.url.is_empty() {
            return Err(bad("the URL is empty"));
        }
        let url = match Url::parse(&request.url) {
            Ok(absolute) => absolute,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                settings.base_url.join(&request.url).map_err(|_| bad("invalid URL"))?
            }
            Err(_) => return Err(bad("invalid URL")),
        };
        settings.check_transport(&url)?;
        let mut headers = HeaderMap::with_capacity(request.headers.len());
        for h in request.headers {
            let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| bad("invalid header name"))?;
            let value = HeaderValue::from_str(&h.value).map_err(|_| bad("invalid header value"))?;
            headers.append(name, value);
        }
        let carries_token = settings.transport.is_token_host(&url);
        if !carries_token {
            // The app's own copy of the auth header must not leak to a foreign host either.
            headers.remove(&settings.header_name);
        }
        let timeout = match request.timeout_ms {
            Some(0) => return Err(bad("timeout_ms must be above 0")),
            Some(ms) => Duration::from_millis(ms),
            None => settings.request_timeout,
        };
        Ok(Prepared { method, url, headers, body: request.body.map(Bytes::from), carries_token, timeout })
    }
}

/// Converts a received response, keeping every header that is valid text.
pub(crate) fn to_response(status: u16, headers: &HeaderMap, body: Bytes) -> HttpResponse {
    let headers = headers
        .iter()
        .filter_map(|(n, v)| Some(HttpHeader { name: n.as_str().to_owned(), value: v.to_str().ok()?.to_owned() }))
        .collect();
    HttpResponse { status, headers, body: body.into() }
}

pub(crate) enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads a response body of at most `limit` bytes: a hostile or broken server must not
/// be able to fill the app's memory.
pub(crate) async fn read_capped(mut response: reqwest::Response, limit: u64) -> Result<Bytes, BodyError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    // Copied into a buffer of its own even when it came in one chunk: a chunk shares the
    // connection's read buffer, which the response must not keep alive.
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
