use std::sync::Arc;

use refreshkit::{HttpRequest, SessionError, SessionEvent, SessionState};
use serde_json::json;

use crate::helpers::{eventually, session_with, signed_in_then_expired, AuthServer, Expired, MemoryStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_that_finishes_after_sign_out_is_thrown_away() {
    let Expired { server, store, session, recorder, .. } = signed_in_then_expired().await;
    server.fault(json!({"kind": "delay", "ms": 0, "gated": true})).await;

    let waiting = {
        let session = session.clone();
        tokio::spawn(async move { session.execute(HttpRequest::get("/api/resource")).await })
    };
    eventually("the request to wait on the refresh", || std::future::ready(session.metrics().waiting_for_refresh == 1))
        .await;
    // The refresh has reached the server (held there): a sign-out before that would end
    // it before it asks, which is another test.
    eventually("the refresh to reach the server", || async { server.stat("refresh_requests").await == 1 }).await;
    session.sign_out().await.unwrap();

    assert_eq!(waiting.await.unwrap().unwrap_err(), SessionError::NotSignedIn, "told at once, not after the refresh");
    server.post_json("/control/release", json!({})).await;
    eventually("the late refresh to be thrown away", || std::future::ready(session.metrics().refreshes_discarded == 1))
        .await;
    assert_eq!(server.stat("refreshes").await, 1, "the server did rotate");
    assert_eq!(store.get(), None, "nothing was written back");
    assert_eq!(session.state(), SessionState::SignedOut);
    let events = recorder.wait_until(|e| e.contains(&SessionEvent::SignedOut)).await;
    assert!(!events.contains(&SessionEvent::Refreshed));
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap_err(), SessionError::NotSignedIn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_hears_sign_in_refresh_expiry_and_sign_out_in_order() {
    let server = AuthServer::start();
    let (session, recorder) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    session.sign_in(server.login().await).await.unwrap();
    server.expire_all().await;
    session.execute(HttpRequest::get("/api/resource")).await.unwrap();
    server.expire_all().await;
    server.fault(json!({"kind": "invalid_grant"})).await;
    session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();
    session.sign_out().await.unwrap();

    let events = recorder.wait_until(|e| e.contains(&SessionEvent::SignedOut)).await;
    let names: Vec<&str> = events
        .iter()
        .map(|e| match e {
            SessionEvent::SignedIn => "signed-in",
            SessionEvent::Refreshed => "refreshed",
            SessionEvent::RefreshFailed { retryable: false, .. } => "refresh-failed",
            SessionEvent::Expired { .. } => "expired",
            SessionEvent::SignedOut => "signed-out",
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert_eq!(names, ["signed-in", "refreshed", "refresh-failed", "expired", "signed-out"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_again_after_expiry_starts_a_fresh_session() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    session.sign_in(server.login().await).await.unwrap();
    server.expire_all().await;
    server.fault(json!({"kind": "invalid_grant"})).await;
    session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();
    assert_eq!(session.state(), SessionState::Expired);

    session.sign_in(server.login().await).await.unwrap();

    assert_eq!(session.state(), SessionState::Active);
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
}
