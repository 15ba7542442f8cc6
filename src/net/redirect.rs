//! Redirects, followed by the engine one hop at a time and only where the first request
//! could have gone with the token: a host that may receive it, over a transport the
//! session allows, never from https down to http. Every hop carries the token: reqwest
//! would drop it on any change of host or port, and a token host redirecting to another
//! would then answer 401 for a token it was never sent, and spend a refresh. Any other
//! redirect is handed back to the app as the 3xx it is, so the token (in any header name)
//! never goes anywhere else.

use bytes::Bytes;
use reqwest::header::{
    HeaderMap, HeaderName, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION,
};
use reqwest::header::{PROXY_AUTHORIZATION, TRANSFER_ENCODING, WWW_AUTHENTICATE};
use reqwest::{Method, Url};

use crate::net::transport::TransportRules;

pub(crate) const MAX_REDIRECTS: usize = 10;

/// One request of a redirect chain, as it goes on the wire.
pub(crate) struct Hop {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
}

/// The hop a `status` answer with `answer` headers asks for, or `None` when it is the
/// app's: not a redirect, or one to a URL that may not receive the token.
pub(crate) fn next_hop(
    transport: &TransportRules,
    token_header: &HeaderName,
    hop: &Hop,
    status: u16,
    answer: &HeaderMap,
) -> Option<Hop> {
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let url = hop.url.join(answer.get(LOCATION)?.to_str().ok()?).ok()?;
    let downgrade = hop.url.scheme() == "https" && url.scheme() != "https";
    if downgrade || !transport.allows_token(&url) {
        return None;
    }
    let mut next = Hop { method: hop.method.clone(), url, headers: hop.headers.clone(), body: hop.body.clone() };
    // As browsers and reqwest do (RFC 9110 section 15.4): 303 asks for a GET, and a POST
    // redirected by 301 or 302 becomes one; 307 and 308 keep the method and the body.
    let to_get = status == 303 || (matches!(status, 301 | 302) && next.method == Method::POST);
    if to_get {
        if next.method != Method::HEAD {
            next.method = Method::GET;
        }
        next.body = None;
        for name in [CONTENT_TYPE, CONTENT_LENGTH, CONTENT_ENCODING, TRANSFER_ENCODING] {
            next.headers.remove(name);
        }
    }
    // The app's own credentials stay with their origin, as reqwest keeps them; the
    // session's token header is the one the rules send on.
    if next.url.origin() != hop.url.origin() {
        for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION, WWW_AUTHENTICATE] {
            if name != token_header {
                next.headers.remove(name);
            }
        }
        next.headers.remove("cookie2");
    }
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn hop(method: Method, url: &str) -> Hop {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        headers.insert(COOKIE, HeaderValue::from_static("app=1"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Hop { method, url: url.parse().unwrap(), headers, body: Some(Bytes::from_static(b"{}")) }
    }

    fn location(to: &str) -> HeaderMap {
        HeaderMap::from_iter([(LOCATION, HeaderValue::from_str(to).unwrap())])
    }

    #[test]
    fn a_hop_to_another_token_host_keeps_the_token_and_leaves_the_apps_cookie_behind() {
        let rules = TransportRules {
            token_hosts: vec!["api.example.com".into(), "files.example.com".into()],
            allow_insecure_http: false,
        };
        let from = hop(Method::POST, "https://api.example.com/a");

        let next = next_hop(&rules, &AUTHORIZATION, &from, 303, &location("https://files.example.com/b")).unwrap();
        assert_eq!((next.method.as_str(), next.body.is_none()), ("GET", true), "303 asks for a GET");
        assert_eq!(next.headers.get(AUTHORIZATION).unwrap(), "Bearer t");
        assert!(next.headers.get(COOKIE).is_none() && next.headers.get(CONTENT_TYPE).is_none());

        let kept = next_hop(&rules, &AUTHORIZATION, &from, 307, &location("/c")).unwrap();
        assert_eq!((kept.method.as_str(), kept.body.is_some()), ("POST", true), "307 keeps the method and body");
        assert!(kept.headers.get(COOKIE).is_some(), "same origin");

        assert!(next_hop(&rules, &AUTHORIZATION, &from, 302, &location("https://elsewhere.example.com/")).is_none());
        assert!(
            next_hop(&rules, &AUTHORIZATION, &from, 302, &location("http://files.example.com/")).is_none(),
            "no downgrade"
        );
        assert!(next_hop(&rules, &AUTHORIZATION, &from, 304, &location("/c")).is_none());
    }
}
