//! Every class of refresh failure: each waiter gets the right error in bounded time,
//! nothing is left stuck, and the session recovers (or, when rejected, is over).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use refreshkit::{ExpiryReason, HttpRequest, Session, SessionError, SessionEvent, SessionState, Tokens};
use serde_json::{json, Value};

use crate::helpers::{
    concurrent_gets, eventually, session_with, signed_in_then_expired, AuthServer, Expired, MemoryStore, Recorder,
};

const WAITERS: usize = 100;

struct Scene {
    server: AuthServer,
    store: Arc<MemoryStore>,
    session: Arc<Session>,
    recorder: Arc<Recorder>,
    first: Tokens,
}

async fn expired_session_with_fault(fault: Value) -> Scene {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, recorder) = session_with(&server, store.clone(), |c| {
        c.refresh_timeout_ms = 400;
        c.store_timeout_ms = 200;
    });
    // The client knows the token has expired, so every request waits for the refresh
    // instead of racing it with a 401 of its own; the server agrees it has expired.
    let first = Tokens { expires_at: Some(SystemTime::now() - Duration::from_secs(1)), ..server.login().await };
    session.sign_in(first.clone()).await.unwrap();
    server.expire_all().await;
    server.fault(fault).await;
    Scene { server, store, session, recorder, first }
}

/// Sends `WAITERS` requests; when the fault is gated, opens it once all of them wait on
/// the refresh, so every one of them meets the fault.
async fn burst(scene: &Scene) -> Vec<Result<u16, SessionError>> {
    let session = scene.session.clone();
    let requests = tokio::spawn(async move { concurrent_gets(&session, WAITERS, "/api/resource").await });
    // Every request waits on the one refresh: none can come late and start another.
    eventually("every request to wait on the refresh", || {
        std::future::ready(scene.session.metrics().waiting_for_refresh == WAITERS as u64)
    })
    .await;
    scene.server.post_json("/control/release", json!({})).await;
    requests.await.unwrap()
}

async fn assert_transient(fault: Value, expected: fn(&SessionError) -> bool) {
    let scene = expired_session_with_fault(fault.clone()).await;

    let results = burst(&scene).await;

    for result in &results {
        let error = result.as_ref().expect_err("the refresh failed, so the request must fail");
        assert!(expected(error), "fault {fault}: unexpected error {error:?}");
        assert!(error.is_retryable());
    }
    assert_eq!(scene.session.state(), SessionState::Active, "tokens are kept");
    assert_eq!(scene.store.get(), Some(scene.first.clone()));
    let events = scene.recorder.wait_until(|e| e.iter().any(|e| matches!(e, SessionEvent::RefreshFailed { .. }))).await;
    assert!(events.contains(&SessionEvent::RefreshFailed {
        retryable: true,
        detail: results[0].clone().unwrap_err().to_string()
    }));

    // The fault has cleared: the next request refreshes and succeeds.
    assert_eq!(scene.session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(scene.server.stat("refreshes").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_fails_every_waiter_with_a_network_error_and_recovers() {
    assert_transient(json!({"kind": "status", "status": 500, "gated": true}), |e| {
        matches!(e, SessionError::Network { .. })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_fails_every_waiter_with_a_network_error_and_recovers() {
    assert_transient(json!({"kind": "status", "status": 503, "gated": true}), |e| {
        matches!(e, SessionError::Network { .. })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_fails_every_waiter_and_recovers() {
    assert_transient(json!({"kind": "drop", "gated": true}), |e| matches!(e, SessionError::Network { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_response_fails_every_waiter_and_recovers() {
    assert_transient(json!({"kind": "truncate", "gated": true}), |e| matches!(e, SessionError::Network { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_tokens_that_are_themselves_rejected_are_returned_as_401_without_a_loop() {
    let scene = expired_session_with_fault(json!({"kind": "rejected_tokens", "gated": true})).await;
    // Reactive on purpose: the first request meets the old token and is replayed.
    scene.session.sign_in(Tokens { expires_at: None, ..scene.server.login().await }).await.unwrap();
    scene.server.expire_all().await;

    let results = burst(&scene).await;

    // Requests that met the old token are replayed once with the new one and get its
    // 401 as it is. Requests whose first try was with the new token may refresh once
    // more, which the server refuses (it never issued that refresh token): expired.
    let expired = Err(SessionError::SessionExpired { reason: ExpiryReason::RefreshRejected });
    assert!(results.iter().all(|r| r == &Ok(401) || r == &expired), "{results:?}");
    assert!(results.contains(&Ok(401)));
    assert!(scene.server.stat("refresh_requests").await <= 2, "no refresh loop");
    assert!(scene.session.metrics().replays <= WAITERS as u64, "at most one replay per request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_fails_every_waiter_with_invalid_response_and_recovers() {
    assert_transient(json!({"kind": "malformed", "gated": true}), |e| {
        matches!(e, SessionError::InvalidResponse { .. })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_access_token_fails_every_waiter_and_recovers() {
    assert_transient(json!({"kind": "missing_access_token", "gated": true}), |e| {
        matches!(e, SessionError::InvalidResponse { .. })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_slower_than_the_timeout_fails_waiters_but_keeps_the_rotated_tokens() {
    // The server rotates after 1 s; waiters give up after 0.6 s; the call itself runs on.
    let scene = expired_session_with_fault(json!({"kind": "delay", "ms": 1000})).await;

    let results = burst(&scene).await;

    assert!(results.iter().all(|r| matches!(r, Err(SessionError::Timeout))), "{results:?}");
    scene.recorder.wait_until(|e| e.contains(&SessionEvent::Refreshed)).await;
    let saved = scene.store.get().unwrap();
    assert_ne!(saved.refresh_token, scene.first.refresh_token, "the late answer was persisted");
    assert_eq!(scene.session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(scene.server.stat("refreshes").await, 1);
    assert_eq!(scene.server.stat("reuse_detected").await, 0, "the old refresh token was never spent twice");
}

async fn assert_rejected(fault: Value) {
    let scene = expired_session_with_fault(fault).await;

    let results = burst(&scene).await;

    let expired = SessionError::SessionExpired { reason: ExpiryReason::RefreshRejected };
    assert!(results.iter().all(|r| r.as_ref() == Err(&expired)), "{results:?}");
    assert_eq!(scene.session.state(), SessionState::Expired);
    assert_eq!(scene.store.get(), None, "the store is cleared");
    let events = scene.recorder.wait_until(|e| e.iter().any(|e| matches!(e, SessionEvent::Expired { .. }))).await;
    assert!(events.contains(&SessionEvent::Expired { reason: ExpiryReason::RefreshRejected }));
    assert_eq!(scene.session.execute(HttpRequest::get("/api/resource")).await.unwrap_err(), expired);
    assert_eq!(scene.server.stat("refresh_requests").await, 1, "an expired session stops refreshing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_grant_expires_the_session_for_every_waiter() {
    assert_rejected(json!({"kind": "invalid_grant", "gated": true})).await;
}

// Only `invalid_grant` (RFC 6749 section 5.2) says the refresh token is dead; any other
// 400 or 401 from the token endpoint keeps the tokens. These failed before: each one
// expired the session and cleared the store.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxys_html_400_keeps_the_tokens_and_is_retryable() {
    let page = "<html><body><h1>400 Bad Request</h1>Request blocked.</body></html>";
    let fault = json!({"kind": "page", "status": 400, "content_type": "text/html", "body": page, "gated": true});
    assert_transient(fault, |e| matches!(e, SessionError::InvalidResponse { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateways_own_401_keeps_the_tokens_and_is_retryable() {
    let fault = json!({"kind": "answer", "status": 401, "body": {"message": "Unauthorized"}, "gated": true});
    assert_transient(fault, |e| matches!(e, SessionError::InvalidResponse { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporarily_unavailable_keeps_the_tokens_and_is_retryable() {
    let fault = json!({"kind": "answer", "status": 400, "body": {"error": "temporarily_unavailable"}, "gated": true});
    assert_transient(fault, |e| matches!(e, SessionError::Network { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_in_a_400_keeps_the_tokens_and_is_retryable() {
    let fault = json!({"kind": "answer", "status": 400, "body": {"error": "server_error"}, "gated": true});
    assert_transient(fault, |e| matches!(e, SessionError::Network { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_refresh_token_is_rejected_and_ends_the_session() {
    let Expired { server, session, first, .. } = signed_in_then_expired().await;
    session.execute(HttpRequest::get("/api/resource")).await.unwrap();

    // A copy of the old tokens (a restored backup) signs in again and refreshes.
    let (stale, _) = session_with(&server, Arc::new(MemoryStore::holding(first)), |_| {});
    server.expire_all().await;
    let error = stale.execute(HttpRequest::get("/api/resource")).await.unwrap_err();

    assert_eq!(error, SessionError::SessionExpired { reason: ExpiryReason::RefreshRejected });
    assert_eq!(server.stat("reuse_detected").await, 1);
}
