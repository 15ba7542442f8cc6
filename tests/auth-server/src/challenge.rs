//! `/api/challenge`: a protected resource that asks for more than a valid token, as a
//! resource server asking for a step-up login does (RFC 9470, RFC 6750 section 3.1).

use axum::extract::{OriginalUri, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::routes::{api_resource, lock, Shared};

/// `/api/challenge?status=N&www_authenticate=V[&www_authenticate=W]`: checks the token as
/// `/api/resource` does (DPoP included), then answers a token it takes with `status` (401
/// by default) and each `www_authenticate` as a field of its own; without any, with 200.
/// A token it does not take gets 401 `WWW-Authenticate: Bearer error="invalid_token"`.
pub async fn challenge(
    state: State<Shared>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let shared = state.0.clone();
    let mut answer = api_resource(state, method, uri, headers).await;
    if answer.status() == StatusCode::UNAUTHORIZED && !answer.headers().contains_key(header::WWW_AUTHENTICATE) {
        let invalid = HeaderValue::from_static(r#"Bearer error="invalid_token""#);
        answer.headers_mut().insert(header::WWW_AUTHENTICATE, invalid);
    }
    let fields: Vec<_> = query.iter().filter(|(n, _)| n == "www_authenticate").map(|(_, v)| v).collect();
    if !answer.status().is_success() || fields.is_empty() {
        return answer;
    }
    let status = query.iter().find(|(n, _)| n == "status").and_then(|(_, v)| v.parse().ok());
    let status = status.and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut challenged = (status, Json(json!({ "error": "step_up" }))).into_response();
    for field in fields {
        let Ok(value) = HeaderValue::from_str(field) else {
            return (StatusCode::BAD_REQUEST, "a www_authenticate that no header can carry").into_response();
        };
        challenged.headers_mut().append(header::WWW_AUTHENTICATE, value);
    }
    // The resource's nonce (with `--dpop-nonce`) goes with every answer it gives.
    if let Some(nonce) = answer.headers().get("dpop-nonce") {
        challenged.headers_mut().insert("dpop-nonce", nonce.clone());
    }
    lock(&shared).stats.step_up_challenges += 1;
    challenged
}
