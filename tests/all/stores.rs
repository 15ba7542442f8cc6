use std::sync::atomic::Ordering;
use std::sync::Arc;

use refreshkit::{
    FileTokenStore, HttpRequest, Session, SessionConfig, SessionError, SessionEvent, SessionState, TokenStore, Tokens,
};

use crate::helpers::{session_with, signed_in_then_expired, AuthServer, Expired, MemoryStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_fails_on_load_leaves_the_session_as_it_was() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::holding(server.login().await));
    store.fail_load(true);
    let (session, _) = session_with(&server, store.clone(), |_| {});
    assert_eq!(session.restored_state().await, SessionState::Locked, "a locked store is not 'signed out'");
    let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();
    assert!(matches!(error, SessionError::Store { .. }), "{error:?}");

    store.fail_load(false);
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(session.state(), SessionState::Active);

    // Locked again when a refresh needs to re-read the store: the caller gets the
    // error, the tokens stay, and the next request recovers.
    store.fail_load(true);
    server.expire_all().await;
    let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();
    assert!(matches!(error, SessionError::Store { .. }), "{error:?}");
    assert_eq!(session.state(), SessionState::Active);
    store.fail_load(false);
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(server.stat("refreshes").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_restored_state_after_a_failed_read_stays_locked_until_a_call_needs_the_tokens() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::holding(server.login().await));
    store.fail_load(true);
    let (session, _) = session_with(&server, store.clone(), |_| {});
    // Asked again and again (a wrapper and the app both ask), it reports the first read.
    for _ in 0..3 {
        assert_eq!(session.restored_state().await, SessionState::Locked);
        assert_eq!(session.state(), SessionState::Locked, "no second read started behind the caller's back");
    }
    assert_eq!(store.loads.load(Ordering::SeqCst), 1);

    store.fail_load(false);
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(store.loads.load(Ordering::SeqCst), 2, "the call read the store again");
    assert_eq!(session.restored_state().await, SessionState::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_fails_on_save_refuses_sign_in_but_keeps_refreshed_tokens_in_memory() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, recorder) = session_with(&server, store.clone(), |_| {});
    store.fail_save(true);
    let error = session.sign_in(server.login().await).await.unwrap_err();
    assert!(matches!(error, SessionError::Store { .. }));
    assert_eq!(session.state(), SessionState::SignedOut, "not persisted, so not signed in");

    store.fail_save(false);
    session.sign_in(server.login().await).await.unwrap();
    store.fail_save(true);
    server.expire_all().await;
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);

    assert_eq!(server.stat("refreshes").await, 1, "the unsaved tokens are used, not refreshed again");
    let events = recorder.wait_until(|e| e.iter().any(|e| matches!(e, SessionEvent::StoreFailed { .. }))).await;
    assert!(events.iter().any(|e| matches!(e, SessionEvent::StoreFailed { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_rotated_by_another_session_on_the_same_store_are_adopted_without_refreshing() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (first, _) = session_with(&server, store.clone(), |_| {});
    first.sign_in(server.login().await).await.unwrap();
    // A second session (an app extension sharing the Keychain) starts from the store.
    let (second, _) = session_with(&server, store.clone(), |_| {});
    assert_eq!(second.restored_state().await, SessionState::Active);
    server.expire_all().await;

    assert_eq!(first.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(second.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);

    assert_eq!(server.stat("refreshes").await, 1);
    assert_eq!(server.stat("reuse_detected").await, 0);
    assert_eq!(second.metrics().refreshes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_session_on_a_file_store_is_still_signed_in_with_the_rotated_tokens() {
    let server = AuthServer::start();
    let path = std::env::temp_dir().join(format!("refreshkit-test-{}.json", std::process::id()));
    let store = Arc::new(FileTokenStore::new(&path));
    let session = Session::new(SessionConfig::new(server.base_url()), store.clone(), None).unwrap();
    session.sign_in(server.login().await).await.unwrap();
    server.expire_all().await;
    session.execute(HttpRequest::get("/api/resource")).await.unwrap();
    let rotated = store.load().unwrap().unwrap();
    drop(session);

    let restarted =
        Session::new(SessionConfig::new(server.base_url()), Arc::new(FileTokenStore::new(&path)), None).unwrap();

    assert_eq!(restarted.restored_state().await, SessionState::Active);
    assert_eq!(restarted.access_token().await.unwrap(), rotated.access_token);
    assert_eq!(restarted.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(server.stat("refreshes").await, 1);
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_saves_on_sign_in_is_written_once_per_rotation() {
    let Expired { server: _server, store, session, .. } = signed_in_then_expired().await;
    for _ in 0..10 {
        session.execute(HttpRequest::get("/api/resource")).await.unwrap();
    }
    assert_eq!(store.saves.load(Ordering::SeqCst), 2, "one save at sign-in, one per refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_id_token_scope_and_type_of_a_refresh_answer_are_saved_and_the_id_token_never_shown() {
    let Expired { server: _server, store, session, .. } = signed_in_then_expired().await;

    session.execute(HttpRequest::get("/api/resource")).await.unwrap();

    let saved = store.get().unwrap();
    let id_token = saved.id_token.clone().expect("the answer's id_token is kept");
    assert!(!format!("{saved:?} {saved}").contains(&id_token), "redacted in Debug and Display");
    assert_eq!(saved.scope.as_deref(), Some("openid api"), "the answer's scope is kept");
    assert_eq!(saved.token_type.as_deref(), Some("Bearer"), "the answer's token_type is kept");
    let path = std::env::temp_dir().join(format!("refreshkit-idtoken-{}.json", std::process::id()));
    let file = FileTokenStore::new(&path);
    file.save(saved.clone()).unwrap();
    let loaded = file.load().unwrap().unwrap();
    // The file keeps the expiry to the millisecond; every other field as it was.
    assert!(Tokens { expires_at: saved.expires_at, ..loaded } == saved, "FileTokenStore keeps every field");
    std::fs::remove_file(&path).unwrap();
}

/// The question a quick start asks before it shows a login screen: a locked store (a
/// background launch before first unlock) must not send the user there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_signed_out_or_ended_session_needs_sign_in_and_a_locked_store_does_not() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::holding(server.login().await));
    store.fail_load(true);
    let (locked, _) = session_with(&server, store.clone(), |_| {});
    assert!(!locked.restored_state().await.needs_sign_in(), "locked, still signed in");
    store.fail_load(false);
    assert_eq!(locked.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert!(!locked.state().needs_sign_in());

    let (empty, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    assert!(empty.restored_state().await.needs_sign_in(), "nobody signed in");

    let (ending, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    ending.sign_in(Tokens { refresh_token: None, ..server.login().await }).await.unwrap();
    server.expire_all().await;
    ending.execute(HttpRequest::get("/api/resource")).await.unwrap_err();
    assert_eq!(ending.state(), SessionState::Expired);
    assert!(ending.state().needs_sign_in(), "the session is over");
}
