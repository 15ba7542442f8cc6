//! Only the user's session ending ends the session: the app's own configuration
//! mistakes (client credentials, scope) keep the tokens and get an error of their own.

use refreshkit::{HttpRequest, SessionError, SessionEvent, SessionState};
use serde_json::json;

use crate::helpers::{signed_in_then_expired, Expired};

async fn assert_client_error_keeps_the_session(status: u16, code: &str) {
    let Expired { server, store, session, recorder, first } = signed_in_then_expired().await;
    server.fault(json!({"kind": "answer", "status": status, "body": {"error": code}})).await;

    let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();

    assert_eq!(error, SessionError::ClientRejected { detail: code.into() });
    assert!(!error.is_retryable());
    assert_eq!(session.state(), SessionState::Active);
    assert_eq!(store.get(), Some(first), "the refresh token is kept");
    recorder.wait_until(|e| e.contains(&SessionEvent::ClientRejected { detail: code.into() })).await;
    assert!(!recorder.events.lock().unwrap().iter().any(|e| matches!(e, SessionEvent::Expired { .. })));
    // Once the app's configuration is fixed (here: the fault is gone), the same tokens work.
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
}

/// Fails before client errors were told apart: the session expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_client_keeps_the_tokens_and_reports_a_client_error() {
    assert_client_error_keeps_the_session(401, "invalid_client").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_scope_keeps_the_tokens_and_reports_a_client_error() {
    assert_client_error_keeps_the_session(400, "invalid_scope").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_client_keeps_the_tokens_and_reports_a_client_error() {
    assert_client_error_keeps_the_session(400, "unauthorized_client").await;
}
