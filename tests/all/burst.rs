use std::sync::Arc;

use refreshkit::{HttpRequest, SessionState};

use crate::helpers::{concurrent_gets, session_with, signed_in_then_expired, AuthServer, Expired, MemoryStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_requests_on_an_expired_token_share_one_refresh() {
    let Expired { server, store, session, first, .. } = signed_in_then_expired().await;

    let results = concurrent_gets(&session, 1000, "/api/resource").await;

    assert!(results.iter().all(|r| r == &Ok(200)));
    assert_eq!(server.stat("refreshes").await, 1);
    assert_eq!(server.stat("refresh_requests").await, 1);
    let metrics = session.metrics();
    assert_eq!((metrics.refreshes, metrics.requests), (1, 1000));
    assert_eq!(session.state(), SessionState::Active);
    let saved = store.get().unwrap();
    assert_ne!(saved.refresh_token, first.refresh_token, "the rotated refresh token is persisted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_401_for_a_replaced_token_replays_without_refreshing_again() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, _) = session_with(&server, store, |_| {});
    let old = server.login().await;
    session.sign_in(old.clone()).await.unwrap();
    server.expire_all().await;
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);

    // An app that sent a request itself with the old token now reports its 401.
    let current = session.refresh_after_unauthorized(old.access_token.clone()).await.unwrap();

    assert_ne!(current, old.access_token);
    assert_eq!(server.stat("refreshes").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_after_unauthorized_refreshes_once_for_many_callers() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    let old = server.login().await;
    session.sign_in(old.clone()).await.unwrap();
    server.expire_all().await;

    let calls: Vec<_> = (0..50)
        .map(|_| {
            let (session, rejected) = (session.clone(), old.access_token.clone());
            tokio::spawn(async move { session.refresh_after_unauthorized(rejected).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for call in calls {
        tokens.push(call.await.unwrap().unwrap());
    }

    tokens.dedup();
    assert_eq!(tokens.len(), 1);
    assert_eq!(server.stat("refreshes").await, 1);
    assert_eq!(session.access_token().await.unwrap(), tokens[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_that_fails_again_is_returned_as_is() {
    let Expired { server, session, .. } = signed_in_then_expired().await;
    // New tokens are born expired: the replay meets a 401 too.
    server.set_access_ttl_ms(0).await;

    let response = session.execute(HttpRequest::get("/api/resource")).await.unwrap();

    assert_eq!(response.status, 401);
    assert_eq!(server.stat("refreshes").await, 1);
    assert_eq!(session.metrics().replays, 1);
}
