//! Sign-out that revokes (RFC 7009), opt-in with `revocation_path`: the local sign-out
//! happens first and stands whatever the revocation endpoint does; the signed-out tokens
//! (never a later sign-in's) are revoked in the background, within the request timeout.

use std::sync::Arc;
use std::time::Duration;

use refreshkit::{
    software_dpop_key, HttpRequest, RefreshProtocol, Session, SessionConfig, SessionError, SessionEvent, SessionState,
    Tokens,
};
use serde_json::json;

use crate::helpers::{eventually, session_with, AuthServer, MemoryStore, Recorder};

/// Longer than any sign-out takes on a busy machine, far shorter than the request
/// timeout a blocking revocation would wait for.
const PROMPT: Duration = Duration::from_secs(5);

fn revoking(config: &mut SessionConfig) {
    config.revocation_path = Some("/oauth/revoke".into());
}

async fn stat_reaches(server: &AuthServer, name: &str, value: u64) {
    eventually(&format!("{name} to reach {value}"), || async { server.stat(name).await == value }).await;
}

async fn signed_out_promptly(session: &Session) {
    let signed_out = tokio::time::timeout(PROMPT, session.sign_out()).await;
    assert_eq!(signed_out.expect("sign_out waited for the revocation"), Ok(()));
    assert_eq!(session.state(), SessionState::SignedOut);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_with_a_revocation_path_revokes_the_refresh_token_at_the_auth_server() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, recorder) = session_with(&server, store.clone(), revoking);
    let tokens = server.login().await;
    session.sign_in(tokens.clone()).await.unwrap();

    signed_out_promptly(&session).await;

    assert_eq!(store.get(), None);
    stat_reaches(&server, "revoked_refresh_tokens", 1).await;
    assert_eq!(server.stat("revocation_requests").await, 1);
    assert!(!server.accepts(&tokens.access_token).await, "the server ended the whole grant");
    assert_eq!(recorder.events.lock().unwrap().clone(), vec![SessionEvent::SignedIn, SessionEvent::SignedOut]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_revocation_path_sign_out_revokes_nothing() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    let tokens = server.login().await;
    session.sign_in(tokens.clone()).await.unwrap();
    // A second session that does revoke, signed out after the first: once its revocation
    // has landed, one from the first would have too.
    let (revoking_session, _) = session_with(&server, Arc::new(MemoryStore::default()), revoking);
    revoking_session.sign_in(server.login().await).await.unwrap();

    signed_out_promptly(&session).await;
    signed_out_promptly(&revoking_session).await;

    stat_reaches(&server, "revoked_refresh_tokens", 1).await;
    assert_eq!(server.stat("revocation_requests").await, 1, "only the session with a revocation path revoked");
    assert!(server.accepts(&tokens.access_token).await, "the first session's tokens still work at the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_endpoint_that_hangs_never_delays_sign_out_nor_touches_the_next_sign_in() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, recorder) = session_with(&server, store.clone(), revoking);
    let old = server.login().await;
    session.sign_in(old.clone()).await.unwrap();
    server.revocation_fault(json!({"kind": "delay", "ms": 0, "gated": true})).await;

    signed_out_promptly(&session).await;
    assert_eq!(store.get(), None);
    stat_reaches(&server, "revocation_requests", 1).await;
    // Signed in again while the old tokens' revocation is still held at the server.
    let new = server.login().await;
    session.sign_in(new.clone()).await.unwrap();
    server.post_json("/control/release", json!({})).await;

    stat_reaches(&server, "revoked_refresh_tokens", 1).await;
    assert!(!server.accepts(&old.access_token).await, "the old grant is revoked");
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200, "the new one serves");
    assert_eq!(store.get(), Some(new));
    assert_eq!(session.state(), SessionState::Active);
    assert!(!recorder.events.lock().unwrap().iter().any(|e| matches!(e, SessionEvent::RevocationFailed { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_that_never_answers_is_given_up_at_the_request_timeout_and_reported() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, recorder) = session_with(&server, store.clone(), |c| {
        revoking(c);
        c.request_timeout_ms = 500;
    });
    session.sign_in(server.login().await).await.unwrap();
    server.revocation_fault(json!({"kind": "delay", "ms": 600_000})).await;

    signed_out_promptly(&session).await;

    let events = recorder.wait_until(|e| e.iter().any(|e| matches!(e, SessionEvent::RevocationFailed { .. }))).await;
    let Some(SessionEvent::RevocationFailed { detail }) = events.last() else { panic!("{events:?}") };
    assert!(detail.contains("did not answer within") || detail.contains("timed out"), "{detail}");
    assert_eq!(events[..2], [SessionEvent::SignedIn, SessionEvent::SignedOut]);
    assert_eq!((session.state(), store.get()), (SessionState::SignedOut, None));
    assert_eq!(server.stat("revoked_refresh_tokens").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_endpoint_answering_500_leaves_the_sign_out_as_it_is_and_is_reported() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, recorder) = session_with(&server, store.clone(), revoking);
    session.sign_in(server.login().await).await.unwrap();
    server.revocation_fault(json!({"kind": "status", "status": 500})).await;

    signed_out_promptly(&session).await;

    let events = recorder.wait_until(|e| e.iter().any(|e| matches!(e, SessionEvent::RevocationFailed { .. }))).await;
    let expected_detail = "the revocation endpoint answered 500 (server_error)".to_owned();
    assert_eq!(
        events,
        [SessionEvent::SignedIn, SessionEvent::SignedOut, SessionEvent::RevocationFailed { detail: expected_detail }]
    );
    assert_eq!((session.state(), store.get()), (SessionState::SignedOut, None));
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap_err(), SessionError::NotSignedIn);
    session.sign_in(server.login().await).await.unwrap();
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_revocation_authenticates_the_client_as_the_refresh_does_with_http_basic() {
    let server = AuthServer::start_with(&["--basic-client", "app:s3cret"]);
    let (session, recorder) = session_with(&server, Arc::new(MemoryStore::default()), |c| {
        revoking(c);
        c.refresh_protocol = Some(RefreshProtocol::OAuth2 {
            client_id: Some("app".into()),
            client_secret: Some("s3cret".into()),
            scope: None,
            basic_auth: true,
        });
    });
    session.sign_in(server.login().await).await.unwrap();

    signed_out_promptly(&session).await;

    stat_reaches(&server, "revoked_refresh_tokens", 1).await;
    assert!(!recorder.events.lock().unwrap().iter().any(|e| matches!(e, SessionEvent::RevocationFailed { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_refresh_token_sign_out_revokes_the_access_token() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), revoking);
    let login = server.login().await;
    session.sign_in(Tokens::new(login.access_token.clone(), None, None)).await.unwrap();

    signed_out_promptly(&session).await;

    stat_reaches(&server, "revoked_access_tokens", 1).await;
    assert_eq!(server.stat("revoked_refresh_tokens").await, 0);
    assert!(!server.accepts(&login.access_token).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpop_bound_tokens_are_revoked_with_a_proof_of_the_sessions_key() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let mut config = SessionConfig::new(server.base_url());
    revoking(&mut config);
    let recorder = Arc::new(Recorder::default());
    let session =
        Session::with_dpop(config, Arc::new(MemoryStore::default()), software_dpop_key(), Some(recorder.clone()))
            .unwrap();
    session.sign_in(server.login_with_proof(&session).await).await.unwrap();

    signed_out_promptly(&session).await;

    stat_reaches(&server, "revoked_refresh_tokens", 1).await;
    assert_eq!(server.stat("revocations_with_proof").await, 1);
}
