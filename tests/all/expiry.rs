//! A session that ends outside a refresh (the server rejects a token that came without a
//! refresh token): one expiry for every caller, as a refresh is one, and never half done.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use refreshkit::{ExpiryReason, HttpRequest, Session, SessionError, SessionEvent, SessionState, TokenStore, Tokens};

use crate::helpers::{concurrent_gets, eventually, session_with, AuthServer, GatedStore, MemoryStore, Recorder};

/// A session on `store` signed in with the server's login tokens without their refresh
/// token, which the server has then expired.
async fn signed_in_without_refresh_token(store: Arc<dyn TokenStore>) -> (AuthServer, Arc<Session>, Arc<Recorder>) {
    let server = AuthServer::start();
    let (session, recorder) = session_with(&server, store, |_| {});
    session.sign_in(Tokens { refresh_token: None, ..server.login().await }).await.unwrap();
    server.expire_all().await;
    (server, session, recorder)
}

fn expiries(recorder: &Recorder) -> usize {
    recorder.events.lock().unwrap().iter().filter(|e| matches!(e, SessionEvent::Expired { .. })).count()
}

/// Failed before the expiry was shared: each caller that found the session over ended it
/// again (5 store clears for 20 callers in the run that checked it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_requests_that_find_the_session_over_end_it_once() {
    let store = Arc::new(MemoryStore::default());
    let (_server, session, recorder) = signed_in_without_refresh_token(store.clone()).await;
    let loads_before = store.loads.load(Ordering::SeqCst);

    let results = concurrent_gets(&session, 20, "/api/resource").await;

    let over = Err(SessionError::SessionExpired { reason: ExpiryReason::NoRefreshToken });
    assert!(results.iter().all(|r| r == &over), "{results:?}");
    recorder.wait_until(|events| events.contains(&SessionEvent::Expired { reason: ExpiryReason::NoRefreshToken })).await;
    assert_eq!(expiries(&recorder), 1, "the app hears the end once");
    assert_eq!(store.clears.load(Ordering::SeqCst), 1);
    assert_eq!(store.loads.load(Ordering::SeqCst) - loads_before, 1, "one look for another process's tokens");
    assert_eq!(session.state(), SessionState::Expired);
}

/// Failed before the expiry ran in a task of its own: the cancelled caller's clear still
/// landed, so the store was empty while the session said `Active` and the app heard nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_cancelled_while_the_expiry_clears_the_store_leaves_the_session_expired_and_told() {
    let store = Arc::new(GatedStore::default());
    let (_server, session, recorder) = signed_in_without_refresh_token(store.clone()).await;
    store.clear_gate.close();

    let caller = tokio::spawn({
        let session = session.clone();
        async move { session.execute(HttpRequest::get("/api/resource")).await }
    });
    eventually("the expiry to be clearing the store", || async { store.clear_gate.waiting.load(Ordering::SeqCst) == 1 })
        .await;
    caller.abort();
    let _ = caller.await;
    store.clear_gate.open();

    recorder.wait_until(|events| events.contains(&SessionEvent::Expired { reason: ExpiryReason::NoRefreshToken })).await;
    assert_eq!(store.inner.get(), None);
    assert_eq!(session.state(), SessionState::Expired, "the session agrees with the store");
    assert_eq!(expiries(&recorder), 1);
}
