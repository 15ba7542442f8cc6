//! Hostile or broken servers get a clear, typed error, never the app's memory, and never
//! a token that could not be sent again.

use std::sync::Arc;

use refreshkit::{HttpRequest, SessionError, SessionState, Tokens};
use serde_json::json;

use crate::helpers::{session_with, signed_in_then_expired, AuthServer, Expired, MemoryStore};

/// Fails before the answer was capped: it was read whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_answer_over_64_kib_is_a_retryable_invalid_response() {
    let Expired { server, store, session, first, .. } = signed_in_then_expired().await;
    server.fault(json!({"kind": "huge", "bytes": 4 * 1024 * 1024})).await;

    let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();

    assert!(matches!(error, SessionError::InvalidResponse { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(store.get(), Some(first), "the tokens are kept");
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_over_max_response_bytes_is_a_typed_error() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |c| c.max_response_bytes = 1000);
    session.sign_in(server.login().await).await.unwrap();

    let small = session.execute(HttpRequest::get("/big?bytes=1000")).await.unwrap();
    let error = session.execute(HttpRequest::get("/big?bytes=1001")).await.unwrap_err();

    assert_eq!(small.body.len(), 1000);
    assert_eq!(error, SessionError::ResponseTooLarge { limit_bytes: 1000 });
    assert!(!error.is_retryable());
}

/// Fails before answers were checked: the token was saved, then every request failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refreshed_token_that_cannot_be_sent_is_never_stored() {
    let Expired { server, store, session, first, .. } = signed_in_then_expired().await;
    let answer = json!({"access_token": "new\ntoken", "refresh_token": "r2", "expires_in": 60});
    server.fault(json!({"kind": "answer", "status": 200, "body": answer})).await;

    let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();

    assert!(matches!(error, SessionError::InvalidResponse { .. }), "{error:?}");
    assert_eq!(store.get(), Some(first), "the old tokens are kept");
    assert_eq!(session.state(), SessionState::Active);
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200, "a later refresh works");
}

/// Fails before sign-in checked the tokens: it said "invalid response from the refresh endpoint".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_with_a_token_that_cannot_be_sent_is_an_invalid_request() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, _) = session_with(&server, store.clone(), |_| {});

    for bad in ["new\ntoken", "with space", "", "caf\u{e9}"] {
        let error = session.sign_in(Tokens::new(bad, Some("r".into()), None)).await.unwrap_err();
        assert!(matches!(error, SessionError::InvalidRequest { .. }), "{bad:?}: {error:?}");
        assert!(!error.to_string().contains(bad) || bad.is_empty(), "the token is not echoed");
    }
    assert_eq!(store.get(), None);
    assert_eq!(session.restored_state().await, SessionState::SignedOut);
}
