//! A request belongs to the sign-in it started under: it is never sent, nor replayed,
//! with another user's token.

use std::sync::Arc;

use refreshkit::{HttpRequest, SessionError};
use serde_json::json;

use crate::helpers::{eventually, session_with, AuthServer, MemoryStore};

/// Fails before requests carried their epoch: the late 401 was replayed with B's token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_401_after_another_user_signed_in_is_never_replayed_with_their_token() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    let alice = server.login().await;
    session.sign_in(alice.clone()).await.unwrap();

    let transfer = tokio::spawn({
        let session = Arc::clone(&session);
        async move { session.execute(HttpRequest::post("/held", b"{\"amount\":100}".to_vec())).await }
    });
    eventually("Alice's request to reach the server", || async { server.stat("held_waiting").await == 1 }).await;
    session.sign_out().await.unwrap();
    let bob = server.login().await;
    session.sign_in(bob.clone()).await.unwrap();
    server.expire_all().await;
    server.post_json("/control/release-held", json!({})).await;

    assert_eq!(transfer.await.unwrap().unwrap_err(), SessionError::SessionChanged);
    let seen = server.stats().await["held_seen"].clone();
    assert_eq!(seen, json!([alice.access_token]), "the server saw Alice's request once, never with Bob's token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_after_unauthorized_never_answers_with_another_users_token() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    let alice = server.login().await;
    session.sign_in(alice.clone()).await.unwrap();
    session.sign_in(server.login().await).await.unwrap();

    let error = session.refresh_after_unauthorized(alice.access_token).await.unwrap_err();

    assert_eq!(error, SessionError::SessionChanged);
    assert_eq!(server.stat("refresh_requests").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_after_unauthorized_for_a_replaced_token_of_this_sign_in_returns_the_current_one() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    let first = server.login().await;
    session.sign_in(first.clone()).await.unwrap();
    let second = session.refresh_after_unauthorized(first.access_token.clone()).await.unwrap();

    let again = session.refresh_after_unauthorized(first.access_token).await.unwrap();

    assert_eq!(again, second);
    assert_eq!(server.stat("refreshes").await, 1);
}
