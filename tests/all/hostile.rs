//! Hostile or broken servers get a clear, typed error, never the app's memory, and never
//! a token that could not be sent again.

use std::sync::Arc;
use std::time::Duration;

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

/// The body is read chunk by chunk (no length announced): kept whole and in order when
/// it fits, refused once the chunks together pass the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_in_many_chunks_arrives_whole_and_in_order_and_the_limit_counts_every_chunk() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |c| c.max_response_bytes = 2000);
    session.sign_in(server.login().await).await.unwrap();

    let whole = session.execute(HttpRequest::get("/chunks?count=20&size=100")).await.unwrap();
    let over = session.execute(HttpRequest::get("/chunks?count=21&size=100")).await.unwrap_err();

    let expected: Vec<u8> = (0..20u8).flat_map(|i| [b'a' + i; 100]).collect();
    assert!(whole.body == expected, "the 20 chunks, whole and in order");
    assert_eq!(over, SessionError::ResponseTooLarge { limit_bytes: 2000 });
}

/// A server that sends its headers and part of the body, then nothing: the request's own
/// bound ends the call (the outer bound only keeps a broken library from hanging the test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_coming_ends_in_a_timeout_at_the_requests_bound() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    session.sign_in(server.login().await).await.unwrap();
    let request = HttpRequest { timeout_ms: Some(300), ..HttpRequest::get("/chunks?count=1&size=10&stall=1") };

    let ended = tokio::time::timeout(Duration::from_secs(30), session.execute(request)).await;

    assert_eq!(ended.expect("the call ended at its own bound").unwrap_err(), SessionError::Timeout);
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
