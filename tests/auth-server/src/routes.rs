//! The HTTP surface: login, both refresh protocols, revocation (RFC 7009), protected
//! resources in both expiry styles (and one asking for a step-up login, challenge.rs), and
//! control endpoints for tests (faults, counters, forced expiry).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{OriginalUri, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{json, Value};

use base64::Engine;

use crate::dpop::Expected;
use crate::dpop_http::{
    checked_key, dated, offered_key, presented_token, request_url, rotate_nonce, set_cached_answers, set_clock_offset,
    set_combined_challenges, set_separate_nonces, with_nonce,
};
use crate::faults::{Fault, QueuedFault, TruncatedBody, DROP_MESSAGE};
use crate::issuer::{Issuer, Presented, RefreshOutcome};

pub type Shared = Arc<Mutex<Issuer>>;

pub fn lock(state: &Shared) -> MutexGuard<'_, Issuer> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/oauth/token", post(oauth_refresh))
        .route("/oauth/revoke", post(oauth_revoke))
        .route("/app/renewal", post(json_refresh))
        .route("/api/resource", get(api_resource).post(api_resource))
        .route("/api/challenge", get(crate::challenge::challenge).post(crate::challenge::challenge))
        .route("/app/resource", get(app_resource).post(app_resource))
        .route("/echo", get(echo).post(echo))
        .route("/redirect", get(redirect).post(redirect))
        .route("/big", get(big))
        .route("/chunks", get(crate::chunks::chunks))
        .route("/held", get(held).post(held))
        .route("/control/release-held", post(release_held))
        .route("/control/stats", get(stats))
        .route("/control/fault", post(add_fault))
        .route("/control/revocation-fault", post(add_revocation_fault))
        .route("/control/expire-all", post(expire_all))
        .route("/control/reset", post(reset))
        .route("/control/release", post(release))
        .route("/control/access-ttl", post(set_access_ttl))
        .route("/control/dpop-rotate-nonce", post(rotate_nonce))
        .route("/control/dpop-clock-offset", post(set_clock_offset))
        .route("/control/dpop-combined-challenges", post(set_combined_challenges))
        .route("/control/dpop-separate-nonces", post(set_separate_nonces))
        .route("/control/dpop-cached-answers", post(set_cached_answers))
        .layer(axum::middleware::map_response_with_state(state.clone(), dated))
        .with_state(state)
}

/// `POST /login`: new tokens; bound to the key of the request's proof when it sends one.
async fn login(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let url = request_url(&headers, "/login");
    let jkt = match offered_key(
        &state,
        &headers,
        &Expected { method: "POST", url: &url, access_token: None, resource: false },
    ) {
        Ok(jkt) => jkt,
        Err(refused) => return *refused,
    };
    let issued = lock(&state).login("user", jkt);
    with_nonce(&state, false, Json(issued).into_response())
}

/// What the next queued fault does to a refresh call.
enum Injected {
    /// Answer normally.
    Nothing,
    /// Answer normally, but hold the answer (tokens already rotated) for this long.
    Hold(Duration),
    /// Send this instead.
    Answer(Response),
}

async fn injected_fault(state: &Shared) -> Injected {
    let fault = {
        let mut issuer = lock(state);
        issuer.stats.refresh_requests += 1;
        (!issuer.faults.is_empty()).then(|| issuer.faults.remove(0))
    };
    let Some(fault) = fault else { return Injected::Nothing };
    if fault.gated {
        let gate = lock(state).gate.clone();
        gate.notified().await;
    }
    tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    if let Fault::Delay { ms } = fault.fault {
        return Injected::Hold(Duration::from_millis(ms));
    }
    fault_answer(fault.fault).map_or(Injected::Nothing, Injected::Answer)
}

fn fault_answer(fault: Fault) -> Option<Response> {
    match fault {
        Fault::Delay { .. } => None,
        Fault::Drop => std::panic::panic_any(DROP_MESSAGE),
        Fault::Status { status } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (code, Json(json!({ "error": "server_error" }))).into_response();
            if status == 503 {
                response.headers_mut().insert(header::RETRY_AFTER, "1".parse().ok()?);
            }
            Some(response)
        }
        Fault::Truncate => Some(
            ([(header::CONTENT_TYPE, "application/json")], axum::body::Body::new(TruncatedBody::default()))
                .into_response(),
        ),
        Fault::RejectedTokens => Some(
            Json(json!({ "access_token": "not-issued-by-this-server", "refresh_token": "rt-unknown",
                         "expires_in": 60, "token_type": "Bearer",
                         "code": 0, "data": { "token": "not-issued-by-this-server", "refreshToken": "rt-unknown" } }))
            .into_response(),
        ),
        Fault::Malformed => Some((StatusCode::OK, "{\"access_token\": ").into_response()),
        Fault::MissingAccessToken => Some(Json(json!({ "token_type": "Bearer" })).into_response()),
        Fault::InvalidGrant => Some(invalid_grant()),
        Fault::Answer { status, body } => Some(
            (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Json(body)).into_response(),
        ),
        Fault::Page { status, content_type, body } => Some(
            (
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                [(header::CONTENT_TYPE, content_type)],
                body,
            )
                .into_response(),
        ),
        Fault::Huge { bytes } => Some(huge(bytes)),
        Fault::Redirect { status, location } => Some(redirect_to(status, location)),
    }
}

fn invalid_grant() -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_grant" }))).into_response()
}

/// Runs `answer` (which rotates the tokens) unless a fault replaces it, then holds the
/// answer if the fault says so: like a real server whose reply is slow to arrive.
async fn with_faults(state: &Shared, answer: impl FnOnce() -> Response) -> Response {
    let hold = match injected_fault(state).await {
        Injected::Answer(response) => return response,
        Injected::Hold(hold) => hold,
        Injected::Nothing => Duration::ZERO,
    };
    let response = answer();
    tokio::time::sleep(hold).await;
    response
}

/// Whether the request authenticates as the `--basic-client` when there is one; any
/// client otherwise (a public client sends its `client_id` in the form).
fn client_authenticated(state: &Shared, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let Some(expected) = lock(state).basic_client.clone() else { return true };
    let sent = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic "));
    let decoded = sent.and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
    decoded.as_deref() == Some(expected.as_bytes()) && !form.contains_key("client_secret")
}

fn invalid_client() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_client" }))).into_response()
}

/// `POST /oauth/revoke` (RFC 7009): revokes the token's family, answers 200 for known
/// and unknown tokens alike; its own queued faults (`/control/revocation-fault`) replace
/// or hold the answer. A `DPoP` header is counted, not checked.
async fn oauth_revoke(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let fault = {
        let mut issuer = lock(&state);
        issuer.stats.revocation_requests += 1;
        if headers.contains_key("dpop") {
            issuer.stats.revocations_with_proof += 1;
        }
        (!issuer.revocation_faults.is_empty()).then(|| issuer.revocation_faults.remove(0))
    };
    if let Some(fault) = fault {
        if fault.gated {
            let gate = lock(&state).gate.clone();
            gate.notified().await;
        }
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        match fault.fault {
            Fault::Delay { ms } => tokio::time::sleep(Duration::from_millis(ms)).await,
            other => {
                if let Some(answer) = fault_answer(other) {
                    return answer;
                }
            }
        }
    }
    if !client_authenticated(&state, &headers, &form) {
        return invalid_client();
    }
    let Some(token) = form.get("token") else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_request" }))).into_response();
    };
    lock(&state).revoke(token, form.get("token_type_hint").map(String::as_str));
    StatusCode::OK.into_response()
}

async fn oauth_refresh(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !client_authenticated(&state, &headers, &form) {
        return invalid_client();
    }
    let url = request_url(&headers, "/oauth/token");
    let jkt = match offered_key(
        &state,
        &headers,
        &Expected { method: "POST", url: &url, access_token: None, resource: false },
    ) {
        Ok(jkt) => jkt,
        Err(refused) => return *refused,
    };
    let issuer = state.clone();
    let answer = with_faults(&state, move || oauth_answer(&issuer, &form, jkt.as_deref())).await;
    with_nonce(&state, false, answer)
}

fn oauth_answer(state: &Shared, form: &HashMap<String, String>, jkt: Option<&str>) -> Response {
    if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "unsupported_grant_type" }))).into_response();
    }
    let Some(token) = form.get("refresh_token") else { return invalid_grant() };
    match lock(state).refresh(token, jkt) {
        RefreshOutcome::Issued(issued) => Json(issued).into_response(),
        RefreshOutcome::Rejected => invalid_grant(),
    }
}

/// The JSON protocol of the original JavaScript recipe.
async fn json_refresh(State(state): State<Shared>, Json(body): Json<Value>) -> Response {
    let issuer = state.clone();
    with_faults(&state, move || json_answer(&issuer, &body)).await
}

fn json_answer(state: &Shared, body: &Value) -> Response {
    let credential = lock(state).credential.clone();
    if body.get("authorization").and_then(Value::as_str) != Some(credential.as_str()) {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "code": 1003, "error": "invalid_client" }))).into_response();
    }
    let Some(token) = body.get("refreshToken").and_then(Value::as_str) else { return invalid_grant() };
    match lock(state).refresh(token, None) {
        RefreshOutcome::Issued(t) => {
            Json(json!({ "code": 0, "data": { "token": t.access_token, "refreshToken": t.refresh_token } }))
                .into_response()
        }
        RefreshOutcome::Rejected => invalid_grant(),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

/// A protected resource in the OAuth style: 401 once the token has expired. With
/// `--dpop`, a DPoP-bound token needs the `DPoP` scheme and a proof by its key.
pub async fn api_resource(
    State(state): State<Shared>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let (token, dpop_scheme) = presented_token(&headers);
    let mut jkt = None;
    if dpop_scheme || headers.contains_key("dpop") {
        let url = request_url(&headers, uri.path());
        let expected = Expected { method: method.as_str(), url: &url, access_token: token, resource: true };
        match checked_key(&state, &headers, &expected) {
            Ok(key) => jkt = key,
            Err(refused) => return *refused,
        }
    }
    let presented = Presented { token, dpop_scheme, jkt: jkt.as_deref() };
    let (accepted, combined, cached_age) = {
        let mut issuer = lock(&state);
        let rules = issuer.dpop.as_ref().map(|r| (r.combined_challenges, r.cached_age_secs));
        let (combined, cached_age) = rules.unwrap_or_default();
        (issuer.authorize_presented(&presented), combined, cached_age)
    };
    let answer = if accepted {
        let mut r = Json(json!({ "ok": true })).into_response();
        if cached_age > 0 {
            r.headers_mut().insert(header::AGE, header::HeaderValue::from(cached_age));
        }
        r
    } else {
        let mut r = (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_token" }))).into_response();
        if combined {
            let challenge = r#"Bearer realm="api", DPoP algs="ES256", error="invalid_token""#;
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static(challenge));
        }
        r
    };
    with_nonce(&state, true, answer)
}

/// A protected resource in the style of the JavaScript recipe: 200 `{"code": 1002}`.
async fn app_resource(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if lock(&state).authorize(bearer(&headers)) {
        Json(json!({ "code": 0, "data": { "ok": true } })).into_response()
    } else {
        Json(json!({ "code": 1002, "message": "token expired" })).into_response()
    }
}

/// Answers with the request headers it received, so tests can see what was sent.
async fn echo(headers: HeaderMap) -> Response {
    let seen: HashMap<String, String> =
        headers.iter().map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
    Json(json!({ "headers": seen })).into_response()
}

/// `/redirect?to=URL&status=N`: a redirect with status N (302 by default).
async fn redirect(Query(query): Query<HashMap<String, String>>) -> Response {
    let to = query.get("to").cloned().unwrap_or_else(|| "/echo".into());
    let status = query.get("status").and_then(|s| s.parse().ok()).unwrap_or(302);
    redirect_to(status, to)
}

fn redirect_to(status: u16, location: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND);
    (status, [(header::LOCATION, location)]).into_response()
}

/// A JSON-looking body of `bytes` bytes.
fn huge(bytes: usize) -> Response {
    let mut body = vec![b' '; bytes.max(2)];
    body[0] = b'[';
    body[bytes.max(2) - 1] = b']';
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `/big?bytes=N`: N bytes, to anyone.
async fn big(Query(query): Query<HashMap<String, String>>) -> Response {
    huge(query.get("bytes").and_then(|b| b.parse().ok()).unwrap_or(1024))
}

/// A protected resource that records the token it got, then holds the request until
/// `POST /control/release-held`, then answers like `/api/resource`: the late 401.
async fn held(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let gate = {
        let mut issuer = lock(&state);
        issuer.stats.held_seen.push(bearer(&headers).unwrap_or("").to_owned());
        issuer.held_gate.clone()
    };
    // Registered before it is counted, so a release seen by the test is never missed.
    let notified = gate.notified();
    tokio::pin!(notified);
    notified.as_mut().enable();
    lock(&state).stats.held_waiting += 1;
    notified.await;
    let accepted = lock(&state).authorize(bearer(&headers));
    if accepted {
        Json(json!({ "ok": true })).into_response()
    } else {
        (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_token" }))).into_response()
    }
}

async fn release_held(State(state): State<Shared>) -> Response {
    let mut issuer = lock(&state);
    issuer.stats.held_waiting = 0;
    issuer.held_gate.notify_waiters();
    StatusCode::NO_CONTENT.into_response()
}

async fn stats(State(state): State<Shared>) -> Response {
    Json(lock(&state).stats.clone()).into_response()
}

async fn add_fault(State(state): State<Shared>, Json(body): Json<Value>) -> Response {
    let times = body.get("times").and_then(Value::as_u64).unwrap_or(1);
    match serde_json::from_value::<QueuedFault>(body) {
        Ok(fault) => {
            let mut issuer = lock(&state);
            issuer.faults.extend(std::iter::repeat_n(fault, times as usize));
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn add_revocation_fault(State(state): State<Shared>, Json(body): Json<Value>) -> Response {
    match serde_json::from_value::<QueuedFault>(body) {
        Ok(fault) => {
            lock(&state).revocation_faults.push(fault);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn expire_all(State(state): State<Shared>) -> Response {
    lock(&state).expire_all();
    StatusCode::NO_CONTENT.into_response()
}

async fn release(State(state): State<Shared>) -> Response {
    lock(&state).gate.notify_one();
    StatusCode::NO_CONTENT.into_response()
}

async fn reset(State(state): State<Shared>) -> Response {
    lock(&state).reset_stats();
    StatusCode::NO_CONTENT.into_response()
}

async fn set_access_ttl(State(state): State<Shared>, Json(body): Json<Value>) -> Response {
    let Some(ms) = body.get("ms").and_then(Value::as_u64) else {
        return (StatusCode::BAD_REQUEST, "expected {\"ms\": N}").into_response();
    };
    lock(&state).access_ttl = Duration::from_millis(ms);
    StatusCode::NO_CONTENT.into_response()
}
