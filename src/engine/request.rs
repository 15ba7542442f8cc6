//! A request as the engine sends it: checked once against the settings, kept for a
//! possible replay, and the answer converted back into the app's record.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use crate::engine::settings::Settings;
use crate::types::error::SessionError;
use crate::types::http::{HttpHeader, HttpRequest, HttpResponse};

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
