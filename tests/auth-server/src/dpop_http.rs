//! DPoP at the HTTP surface: reading the proof and the token scheme, the answers a
//! server gives when a proof is refused, and the `DPoP-Nonce` header on every answer.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::dpop::{Expected, Refusal};
use crate::routes::{lock, Shared};

/// The key thumbprint of the request's valid proof, if it sent one (a token request
/// without a proof gets Bearer tokens, as servers that offer both do); `None` when the
/// server does not do DPoP; the answer to give when the proof is refused.
pub fn offered_key(
    state: &Shared,
    headers: &HeaderMap,
    expected: &Expected<'_>,
) -> Result<Option<String>, Box<Response>> {
    if !headers.contains_key("dpop") {
        return Ok(None);
    }
    checked_key(state, headers, expected)
}

/// The key thumbprint of the request's valid proof; `None` when the server does not do
/// DPoP; the answer to give when the proof is refused (a token request's or a resource's,
/// as `expected.resource` says).
pub fn checked_key(
    state: &Shared,
    headers: &HeaderMap,
    expected: &Expected<'_>,
) -> Result<Option<String>, Box<Response>> {
    let mut issuer = lock(state);
    let proof = headers.get("dpop").and_then(|v| v.to_str().ok());
    let Some(rules) = issuer.dpop.as_mut() else { return Ok(None) };
    let refusal = match rules.check(proof, expected) {
        Ok(jkt) => return Ok(Some(jkt)),
        Err(refusal) => refusal,
    };
    let (nonce, combined) = (rules.nonce(expected.resource).to_owned(), rules.combined_challenges);
    let error = match refusal {
        Refusal::UseNonce => {
            issuer.stats.nonce_challenges += 1;
            if expected.resource {
                issuer.stats.resource_nonce_challenges += 1;
            } else {
                issuer.stats.token_nonce_challenges += 1;
            }
            "use_dpop_nonce"
        }
        Refusal::Invalid(_) => {
            issuer.stats.dpop_refused += 1;
            "invalid_dpop_proof"
        }
    };
    let mut response = if !expected.resource {
        (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
    } else {
        let mut r = (StatusCode::UNAUTHORIZED, Json(json!({ "error": error }))).into_response();
        let dpop = format!("DPoP algs=\"ES256\", error=\"{error}\"");
        let challenge =
            if combined { format!("Bearer realm=\"api\", {dpop}") } else { format!("DPoP error=\"{error}\"") };
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    };
    if let Ok(v) = HeaderValue::from_str(&nonce) {
        response.headers_mut().insert("dpop-nonce", v);
    }
    Err(Box::new(response))
}

/// The URL the request was sent to, as a proof's `htu` names it.
pub fn request_url(headers: &HeaderMap, path: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}{path}")
}

/// The token and whether it came with the `DPoP` scheme.
pub fn presented_token(headers: &HeaderMap) -> (Option<&str>, bool) {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match value {
        Some(v) if v.starts_with("DPoP ") => (Some(&v[5..]), true),
        Some(v) if v.starts_with("Bearer ") => (Some(&v[7..]), false),
        _ => (None, false),
    }
}

/// Adds the current nonce to an answer, as DPoP servers do, so clients keep it fresh: a
/// resource's (`resource`) or the token endpoint's.
pub fn with_nonce(state: &Shared, resource: bool, mut response: Response) -> Response {
    let nonce = lock(state).dpop.as_ref().filter(|r| r.require_nonce).map(|r| r.nonce(resource).to_owned());
    if let Some(v) = nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
        response.headers_mut().insert("dpop-nonce", v);
    }
    response
}

/// Dates every answer with the server's own clock (see `DpopRules::clock_offset_secs`);
/// an answer with `Age: N` was made N seconds before it is sent.
pub async fn dated(State(state): State<Shared>, mut response: Response) -> Response {
    let age = response.headers().get(header::AGE).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let now = lock(&state).dpop.as_ref().filter(|r| r.clock_offset_secs != 0 || age.is_some()).map(|r| r.now());
    let made = now.map(|t| t - std::time::Duration::from_secs(age.unwrap_or(0)));
    if let Some(v) = made.and_then(|t| HeaderValue::from_str(&httpdate::fmt_http_date(t)).ok()) {
        response.headers_mut().insert(header::DATE, v);
    }
    response
}

/// `POST /control/dpop-cached-answers {"age_secs": N}`: see `DpopRules::cached_age_secs`.
pub async fn set_cached_answers(State(state): State<Shared>, Json(body): Json<serde_json::Value>) -> Response {
    let age = body.get("age_secs").and_then(serde_json::Value::as_u64).unwrap_or(0);
    if let Some(rules) = lock(&state).dpop.as_mut() {
        rules.cached_age_secs = age;
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /control/dpop-clock-offset {"secs": N}`: the server's clock moves N seconds
/// away from the machine's.
pub async fn set_clock_offset(State(state): State<Shared>, Json(body): Json<serde_json::Value>) -> Response {
    let secs = body.get("secs").and_then(serde_json::Value::as_i64).unwrap_or(0);
    if let Some(rules) = lock(&state).dpop.as_mut() {
        rules.clock_offset_secs = secs;
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /control/dpop-combined-challenges {"on": true}`: see `DpopRules::combined_challenges`.
pub async fn set_combined_challenges(State(state): State<Shared>, Json(body): Json<serde_json::Value>) -> Response {
    let on = body.get("on").and_then(serde_json::Value::as_bool).unwrap_or(false);
    if let Some(rules) = lock(&state).dpop.as_mut() {
        rules.combined_challenges = on;
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /control/dpop-separate-nonces {"on": true}`: see `DpopRules::separate_resource_nonce`.
pub async fn set_separate_nonces(State(state): State<Shared>, Json(body): Json<serde_json::Value>) -> Response {
    let on = body.get("on").and_then(serde_json::Value::as_bool).unwrap_or(false);
    if let Some(rules) = lock(&state).dpop.as_mut() {
        rules.separate_resource_nonce = on;
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /control/dpop-rotate-nonce`: the next proofs need a new nonce.
pub async fn rotate_nonce(State(state): State<Shared>) -> Response {
    if let Some(rules) = lock(&state).dpop.as_mut() {
        rules.rotate_nonce();
    }
    StatusCode::NO_CONTENT.into_response()
}
