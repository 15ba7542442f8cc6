//! The refresh call in its two dialects: building the request and reading the answer.
//! Parsing is pure, so it is tested (and fuzzed) without a server.

use std::time::{Duration, SystemTime};

use reqwest::Url;
use serde_json::Value;

use crate::dpop::key::DpopKeyError;
use crate::dpop::state::{key_failed, token_endpoint_refused_proof, Dpop, NonceFor, DPOP_ERRORS};
use crate::engine::settings::{RefreshProtocol, Settings};
use crate::net::wire::{Received, Wire, WireError};
use crate::types::error::SessionError;
use crate::types::tokens::{check_usable, Tokens};

/// The largest refresh answer read; real ones are a few hundred bytes.
const MAX_ANSWER: u64 = 64 * 1024;

/// OAuth 2.0 error codes that blame the client or the request, not the refresh token
/// (also when a JSON-protocol server uses them).
/// (`invalid_request` is left out: some servers send it for a malformed refresh token.)
const CLIENT_ERRORS: [&str; 4] = ["invalid_client", "unauthorized_client", "invalid_scope", "unsupported_grant_type"];

/// How a refresh attempt ended, before the engine acts on it.
#[derive(Debug)]
pub(crate) enum RefreshFailure {
    /// The server refused the refresh token: the session is over.
    Rejected { detail: String },
    /// The server refused the app's client or scope: a configuration mistake that
    /// signing in again would not fix, so the tokens are kept.
    ClientRejected { detail: String },
    /// Network, timeout, 5xx, unreadable answer: keep the tokens and try again later.
    Transient(SessionError),
    /// The DPoP key the tokens are bound to is gone: they can never be used again.
    KeyGone,
}

/// Sends the refresh request for `refresh_token` and reads the new tokens. With DPoP,
/// the request carries a proof; a proof refused for a nonce or a clock the answer then
/// taught gets one more try.
pub(crate) async fn refresh(
    wire: &Wire,
    settings: &Settings,
    refresh_token: &str,
    dpop: Option<&Dpop>,
) -> Result<Tokens, RefreshFailure> {
    let build = |client: &reqwest::Client| {
        refresh_request(client, settings, refresh_token).timeout(settings.refresh_call_limit())
    };
    let within = settings.refresh_call_limit();
    let (status, _, body) =
        post_with_proof(wire, &settings.refresh_url, dpop, within, build).await.map_err(|e| match e {
            PostFailure::Key(DpopKeyError::Gone) => RefreshFailure::KeyGone,
            PostFailure::Key(other) => RefreshFailure::Transient(key_failed(other)),
            PostFailure::Wire(WireError::TooLarge) => malformed("the answer is larger than 64 KiB"),
            PostFailure::Wire(WireError::Failed(e)) => RefreshFailure::Transient(e),
        })?;
    parse_answer(&settings.protocol, status, &body, crate::foundation::clock::now())
}

/// Why a POST to the authorization server got no answer to read.
pub(crate) enum PostFailure {
    /// The DPoP key did not sign the proof.
    Key(DpopKeyError),
    Wire(WireError),
}

/// POSTs the request `build` makes to `url`, an authorization server's endpoint (the
/// refresh, the revocation), and reads its answer (at most 64 KiB). With `dpop`, it
/// carries a proof signed within `within`; a proof refused for a nonce or a clock the
/// answer taught gets one more try, with a new proof.
pub(crate) async fn post_with_proof(
    wire: &Wire,
    url: &Url,
    dpop: Option<&Dpop>,
    within: Duration,
    build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
) -> Result<Received, PostFailure> {
    let mut retried = false;
    loop {
        let client = wire.client().map_err(|e| PostFailure::Wire(WireError::Failed(e)))?;
        let mut request = build(&client);
        if let Some(dpop) = dpop {
            request = request.header("DPoP", dpop.proof("POST", url, None, within).await.map_err(PostFailure::Key)?);
        }
        let sent = crate::foundation::clock::now();
        let (status, headers, body) = wire.send(request, MAX_ANSWER).await.map_err(PostFailure::Wire)?;
        let learnt = dpop.is_some_and(|d| d.learn(url, NonceFor::AuthorizationServer, &headers, Some(sent)));
        if learnt && !retried && token_endpoint_refused_proof(status, &body) {
            retried = true;
            continue;
        }
        return Ok((status, headers, body));
    }
}

/// The refresh request in the configured dialect.
fn refresh_request(client: &reqwest::Client, settings: &Settings, refresh_token: &str) -> reqwest::RequestBuilder {
    let request = match &settings.protocol {
        RefreshProtocol::OAuth2 { client_id, client_secret, scope, basic_auth } => {
            let mut form: Vec<(&str, &str)> = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
            if let Some(scope) = scope {
                form.push(("scope", scope));
            }
            let client_auth = ClientAuth { client_id, client_secret, basic_auth: *basic_auth };
            client_auth.form_post(client, &settings.refresh_url, form)
        }
        RefreshProtocol::Json { refresh_token_field, extra_fields, .. } => {
            let mut body = serde_json::Map::new();
            for (k, v) in extra_fields {
                body.insert(k.clone(), Value::String(v.clone()));
            }
            body.insert(refresh_token_field.clone(), Value::String(refresh_token.to_owned()));
            client
                .post(settings.refresh_url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(Value::Object(body).to_string())
        }
    };
    request.header(reqwest::header::ACCEPT, "application/json")
}

/// How the app's OAuth client authenticates at the authorization server.
pub(crate) struct ClientAuth<'a> {
    pub client_id: &'a Option<String>,
    pub client_secret: &'a Option<String>,
    /// HTTP Basic instead of the form.
    pub basic_auth: bool,
}

impl<'a> ClientAuth<'a> {
    /// The client of an OAuth 2.0 protocol; `None` for the JSON one, which has no clients.
    pub fn of(protocol: &'a RefreshProtocol) -> Option<Self> {
        match protocol {
            RefreshProtocol::OAuth2 { client_id, client_secret, basic_auth, .. } => {
                Some(ClientAuth { client_id, client_secret, basic_auth: *basic_auth })
            }
            RefreshProtocol::Json { .. } => None,
        }
    }

    /// A form POST of `form` to `url`, authenticated as RFC 6749 section 2.3.1 says:
    /// `client_id` (and `client_secret`) in the form, or with `basic_auth` in an HTTP
    /// Basic header. The refresh and the revocation (RFC 7009 section 2.1) both use it.
    pub fn form_post(
        &self,
        client: &reqwest::Client,
        url: &Url,
        mut form: Vec<(&'a str, &'a str)>,
    ) -> reqwest::RequestBuilder {
        if !self.basic_auth {
            for (key, value) in [("client_id", self.client_id), ("client_secret", self.client_secret)] {
                if let Some(value) = value {
                    form.push((key, value));
                }
            }
        }
        let request = client.post(url.clone()).form(&form);
        match (self.basic_auth, self.client_id) {
            (true, Some(id)) => {
                request.header(reqwest::header::AUTHORIZATION, basic_credentials(id, self.client_secret))
            }
            _ => request,
        }
    }
}

/// Reads the refresh endpoint's answer. Public to the crate for tests and fuzzing.
pub(crate) fn parse_answer(
    protocol: &RefreshProtocol,
    status: u16,
    body: &[u8],
    now: SystemTime,
) -> Result<Tokens, RefreshFailure> {
    match status {
        200..=299 => {}
        400 | 401 => {
            let code = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(short));
            let json_protocol = matches!(protocol, RefreshProtocol::Json { .. });
            return Err(match code {
                // RFC 6749 section 5.2: these are the client's or the request's fault.
                Some(code) if CLIENT_ERRORS.contains(&code.as_str()) => RefreshFailure::ClientRejected { detail: code },
                // RFC 9449: a proof the server did not take (no nonce yet, a clock it does
                // not agree with) says nothing about the refresh token.
                Some(code) if DPOP_ERRORS.contains(&code.as_str()) => {
                    RefreshFailure::Transient(SessionError::DpopKey {
                        detail: format!("the server refused the proof ({code})"),
                    })
                }
                // Only `invalid_grant` says the refresh token is dead. Ending the session
                // clears the store for good, so anything else (a proxy's or portal's page,
                // a gateway's own 401, `server_error`, `invalid_request` from a body a
                // middlebox mangled) is worth another try. The JSON protocol has no such
                // vocabulary: there, any 400 or 401 is a rejection.
                Some(code) if code == "invalid_grant" || json_protocol => RefreshFailure::Rejected { detail: code },
                None if json_protocol => RefreshFailure::Rejected { detail: format!("status {status}") },
                Some(code) => RefreshFailure::Transient(SessionError::Network {
                    detail: format!("the refresh endpoint answered {status} ({code})"),
                }),
                None => malformed(&format!("status {status} without an OAuth error")),
            });
        }
        _ => {
            return Err(RefreshFailure::Transient(SessionError::Network {
                detail: format!("the refresh endpoint answered {status}"),
            }))
        }
    }
    let json: Value = serde_json::from_slice(body).map_err(|_| malformed("the answer is not JSON"))?;
    let (access, refresh, expires_in) = match protocol {
        RefreshProtocol::OAuth2 { .. } => (json.get("access_token"), json.get("refresh_token"), json.get("expires_in")),
        RefreshProtocol::Json { access_token_pointer, refresh_token_pointer, expires_in_pointer, .. } => (
            json.pointer(access_token_pointer),
            refresh_token_pointer.as_deref().and_then(|p| json.pointer(p)),
            expires_in_pointer.as_deref().and_then(|p| json.pointer(p)),
        ),
    };
    let access_token = match access.and_then(Value::as_str) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => return Err(malformed("the answer has no access token")),
    };
    let refresh_token = refresh.and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_owned);
    let expires_at = expires_in.and_then(seconds).map(|s| now + s);
    let text = |name: &str| json.get(name).and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_owned);
    let tokens = Tokens {
        access_token,
        refresh_token,
        expires_at,
        id_token: text("id_token"),
        scope: text("scope"),
        token_type: text("token_type"),
    };
    // A token that could never be sent must never be stored: the old tokens stay.
    check_usable(&tokens).map_err(malformed)?;
    Ok(tokens)
}

/// RFC 6749 section 2.3.1: both parts form-urlencoded, then joined with `:` and base64.
fn basic_credentials(id: &str, secret: &Option<String>) -> reqwest::header::HeaderValue {
    use base64::Engine;
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(id), encode(secret.as_deref().unwrap_or("")));
    let mut value = reqwest::header::HeaderValue::try_from(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    ))
    .expect("base64 is a valid header value");
    value.set_sensitive(true);
    value
}

/// `expires_in` as a number or a numeric string, as some servers send it.
fn seconds(v: &Value) -> Option<Duration> {
    let secs = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (secs.is_finite() && (0.0..=1e9).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

fn malformed(detail: &str) -> RefreshFailure {
    RefreshFailure::Transient(SessionError::InvalidResponse { detail: detail.into() })
}

/// Error codes are echoed into messages; keep them short and printable.
pub(crate) fn short(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_graphic()).take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn oauth() -> RefreshProtocol {
        RefreshProtocol::OAuth2 { client_id: None, client_secret: None, scope: None, basic_auth: false }
    }

    fn json_protocol() -> RefreshProtocol {
        RefreshProtocol::Json {
            refresh_token_field: "refreshToken".into(),
            extra_fields: HashMap::new(),
            access_token_pointer: "/data/token".into(),
            refresh_token_pointer: Some("/data/refreshToken".into()),
            expires_in_pointer: None,
        }
    }

    #[test]
    fn oauth_answer_gives_tokens_and_expiry() {
        let now = SystemTime::UNIX_EPOCH;
        let t =
            parse_answer(&oauth(), 200, br#"{"access_token":"a","refresh_token":"r","expires_in":"30"}"#, now).unwrap();
        assert_eq!(t.access_token, "a");
        assert_eq!(t.refresh_token.as_deref(), Some("r"));
        assert_eq!(t.expires_at, Some(now + Duration::from_secs(30)));
    }

    #[test]
    fn invalid_grant_is_a_rejection_and_5xx_is_transient() {
        let now = SystemTime::now();
        for status in [400, 401] {
            assert!(matches!(
                parse_answer(&oauth(), status, br#"{"error":"invalid_grant"}"#, now),
                Err(RefreshFailure::Rejected { detail }) if detail == "invalid_grant"
            ));
        }
        assert!(matches!(
            parse_answer(&oauth(), 503, b"", now),
            Err(RefreshFailure::Transient(SessionError::Network { .. }))
        ));
    }

    #[test]
    fn an_oauth_400_or_401_without_invalid_grant_is_transient() {
        let now = SystemTime::now();
        let bodies: [&[u8]; 5] = [
            b"",
            b"<html>blocked</html>",
            br#"{"message":"Unauthorized"}"#,
            br#"{"error":"server_error"}"#,
            br#"{"error":"invalid_request"}"#,
        ];
        for (status, body) in [400, 401].into_iter().flat_map(|s| bodies.map(|b| (s, b))) {
            let failure = parse_answer(&oauth(), status, body, now);
            assert!(matches!(failure, Err(RefreshFailure::Transient(ref e)) if e.is_retryable()), "{failure:?}");
        }
    }

    #[test]
    fn the_json_protocol_takes_any_400_or_401_for_a_rejection() {
        let now = SystemTime::now();
        for body in [&b""[..], br#"{"message":"Unauthorized"}"#, br#"{"code":1003,"error":"token_revoked"}"#] {
            assert!(matches!(parse_answer(&json_protocol(), 401, body, now), Err(RefreshFailure::Rejected { .. })));
        }
    }

    #[test]
    fn malformed_answers_are_transient() {
        let now = SystemTime::now();
        for body in [&b"{"[..], br#"{"token_type":"bearer"}"#, br#"{"access_token":""}"#, br#"[1]"#] {
            assert!(matches!(
                parse_answer(&oauth(), 200, body, now),
                Err(RefreshFailure::Transient(SessionError::InvalidResponse { .. }))
            ));
        }
    }

    #[test]
    fn json_protocol_reads_pointers() {
        let t =
            parse_answer(&json_protocol(), 200, br#"{"data":{"token":"a2","refreshToken":"r2"}}"#, SystemTime::now())
                .unwrap();
        assert_eq!((t.access_token.as_str(), t.refresh_token.as_deref()), ("a2", Some("r2")));
        assert_eq!(t.expires_at, None);
    }
}
