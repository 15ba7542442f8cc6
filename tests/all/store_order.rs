//! The store seam under failure and delay: a failed save never costs the session, writes
//! land in the order the session made them, sign-out tells the truth, and building a
//! session never waits for the store.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use refreshkit::{HttpRequest, Session, SessionConfig, SessionError, SessionEvent, SessionState, TokenStore};

use crate::helpers::{eventually, session_with, signed_in_then_expired, started, AuthServer, Expired, GatedStore};

const GET: fn() -> HttpRequest = || HttpRequest::get("/api/resource");

async fn status(session: &Session) -> Result<u16, SessionError> {
    session.execute(GET()).await.map(|r| r.status)
}

/// Fails before the engine tracked what it held: the store's older tokens looked newer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_save_never_ends_the_session_at_the_next_expiry() {
    let Expired { server, store, session, .. } = signed_in_then_expired().await;
    store.fail_save(true);

    assert_eq!(status(&session).await, Ok(200), "first expiry: refreshed, but not saved");
    server.expire_all().await;
    assert_eq!(status(&session).await, Ok(200), "second expiry: the store's older tokens are not adopted");
    assert_eq!(status(&session).await, Ok(200));

    assert_eq!(session.state(), SessionState::Active);
    assert_eq!(server.stat("reuse_detected").await, 0, "no refresh token was spent twice");
    assert_eq!(server.stat("refreshes").await, 2);
}

/// Fails before the session remembered what the store holds beside its window of 16
/// recent token sets: once the sign-in's tokens, still in a store whose saves kept
/// failing, left that window, they looked like another process's newer tokens, their
/// spent refresh token went out again, and reuse detection signed the user out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_number_of_failed_saves_never_makes_the_stores_older_tokens_news() {
    let Expired { server, store, session, first, .. } = signed_in_then_expired().await;
    store.fail_save(true);

    // 24 expiries: past the window, within the guard's 30 refreshes after rejections per 30 s.
    let mut outcomes = Vec::new();
    for i in 0..24 {
        if i > 0 {
            server.expire_all().await;
        }
        outcomes.push(status(&session).await);
    }
    let served = outcomes.iter().take_while(|o| **o == Ok(200)).count();
    let then: Vec<_> = outcomes[served..].iter().take(2).cloned().collect();
    let (reused, refreshes) = (server.stat("reuse_detected").await, server.stat("refreshes").await);
    assert_eq!((served, then, reused, refreshes), (24, vec![], 0, 24), "(served, then, reuse detected, refreshes)");
    assert_eq!(store.get(), Some(first), "every save failed: the store still holds the sign-in's tokens");

    store.fail_save(false);
    let in_use = session.access_token().await.unwrap();
    eventually("the store to catch up", || async {
        let _ = status(&session).await;
        store.get().is_some_and(|t| t.access_token == in_use)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_whose_save_failed_are_saved_again_when_the_store_recovers() {
    let Expired { server, store, session, .. } = signed_in_then_expired().await;
    store.fail_save(true);
    assert_eq!(status(&session).await, Ok(200));
    let in_use = session.access_token().await.unwrap();
    assert_ne!(store.get().unwrap().access_token, in_use, "the store is behind");

    store.fail_save(false);
    eventually("the store to catch up", || async {
        let _ = status(&session).await;
        store.get().is_some_and(|t| t.access_token == in_use)
    })
    .await;

    assert_eq!(server.stat("refreshes").await, 1, "caught up without another refresh");
}

/// Fails before the store calls were queued: the late save landed after the clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_that_outlives_the_store_timeout_never_lands_after_sign_out() {
    let server = AuthServer::start();
    let store = Arc::new(GatedStore::default());
    let (session, recorder) = session_with(&server, store.clone(), |c| c.store_timeout_ms = 300);
    session.sign_in(server.login().await).await.unwrap();
    server.expire_all().await;

    store.save_gate.close();
    assert_eq!(status(&session).await, Ok(200), "the refreshed tokens are used though their save hangs");
    recorder.wait_until(|e| e.iter().any(|e| matches!(e, SessionEvent::StoreFailed { .. }))).await;
    let signing_out = started(session.sign_out()).await;
    store.save_gate.open();

    assert_eq!(signing_out.await, Ok(()));
    assert_eq!(store.inner.get(), None, "the late save landed before the clear, not after");
    let relaunched = Session::new(SessionConfig::new(server.base_url()), store.clone(), None).unwrap();
    assert_eq!(relaunched.restored_state().await, SessionState::SignedOut);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_behind_a_hung_store_fails_and_leaves_everything_as_it_was() {
    let server = AuthServer::start();
    let store = Arc::new(GatedStore::default());
    let (session, _) = session_with(&server, store.clone(), |c| c.store_timeout_ms = 200);
    session.sign_in(server.login().await).await.unwrap();
    server.expire_all().await;
    store.save_gate.close();
    assert_eq!(status(&session).await, Ok(200));

    let error = session.sign_out().await.unwrap_err();

    assert!(matches!(error, SessionError::Store { .. }), "{error:?}");
    assert_eq!(session.state(), SessionState::Active, "the sign-out did not happen, and says so");
    store.save_gate.open();
    eventually("the hung save to land", || std::future::ready(store.save_gate.waiting.load(Ordering::SeqCst) == 0))
        .await;
    assert_eq!(status(&session).await, Ok(200));
    assert_eq!(session.sign_out().await, Ok(()), "a sign-out once the store answers works");
    assert_eq!(store.inner.get(), None);
}

/// Fails when a sign-in's late save is left to land unnoticed: the session kept the first
/// user while the store held the second, and took the second's tokens for another
/// process's at its next refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_whose_save_lands_after_the_timeout_signs_in_then_with_an_event() {
    let server = AuthServer::start();
    let store = Arc::new(GatedStore::default());
    let (session, recorder) = session_with(&server, store.clone(), |c| c.store_timeout_ms = 200);
    let first_user = server.login().await;
    session.sign_in(first_user.clone()).await.unwrap();

    store.save_gate.close();
    let next_user = server.login().await;
    let error = session.sign_in(next_user.clone()).await.unwrap_err();
    assert!(matches!(error, SessionError::Store { .. }), "{error:?}");
    assert_eq!(session.access_token().await.unwrap(), first_user.access_token, "nothing changed yet");
    store.save_gate.open();

    let signed_in_twice = |e: &[SessionEvent]| e.iter().filter(|e| **e == SessionEvent::SignedIn).count() == 2;
    recorder.wait_until(signed_in_twice).await;
    assert_eq!(store.inner.get(), Some(next_user.clone()));
    assert_eq!(session.access_token().await.unwrap(), next_user.access_token, "the session follows the store");
    assert_eq!(status(&session).await, Ok(200));
}

/// Fails when a queued write keeps the refresh lock until the line reaches it: behind a
/// hung read, other processes would be locked out for as long as it hangs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_that_gave_up_in_the_queue_lets_go_of_the_refresh_lock_at_once() {
    let server = AuthServer::start();
    let path = std::env::temp_dir().join(format!("refreshkit-queued-lock-{}", std::process::id()));
    let store = GatedStore { refresh_lock: Some(refreshkit::file_refresh_lock(path.display().to_string())), ..Default::default() };
    store.inner.save(server.login().await).unwrap();
    store.load_gate.close();
    let store = Arc::new(store);
    // The first read of the store hangs at the gate; the sign-out's clear queues behind it.
    let (session, _) = session_with(&server, store.clone(), |c| c.store_timeout_ms = 200);

    eventually("the first read to wait at the gate", || {
        std::future::ready(store.load_gate.waiting.load(Ordering::SeqCst) == 1)
    })
    .await;
    let error = session.sign_out().await.unwrap_err();

    assert!(matches!(error, SessionError::Store { .. }), "{error:?}");
    let other_process = refreshkit::FileRefreshLock::new(&path);
    eventually("another process to get the refresh lock", || {
        std::future::ready(refreshkit::RefreshLock::acquire(&other_process, 0) == Ok(true))
    })
    .await;
    refreshkit::RefreshLock::release(&other_process).unwrap();
    store.load_gate.open();
    let _ = std::fs::remove_file(&path);
}

/// Fails before the store calls were queued: the late clear wiped the new sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clear_that_outlives_the_store_timeout_never_wipes_the_next_sign_in() {
    let server = AuthServer::start();
    let store = Arc::new(GatedStore::default());
    let (session, _) = session_with(&server, store.clone(), |c| c.store_timeout_ms = 300);
    session.sign_in(server.login().await).await.unwrap();

    store.clear_gate.close();
    assert!(matches!(session.sign_out().await, Err(SessionError::Store { .. })));
    let next_user = server.login().await;
    let signing_in = started(session.sign_in(next_user.clone())).await;
    store.clear_gate.open();

    assert_eq!(signing_in.await, Ok(()));
    assert_eq!(store.inner.get(), Some(next_user), "the new sign-in was saved after the late clear");
    assert_eq!(status(&session).await, Ok(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_with_a_failing_clear_changes_nothing_and_says_so() {
    let server = AuthServer::start();
    let store = Arc::new(GatedStore::default());
    let (session, recorder) = session_with(&server, store.clone(), |_| {});
    session.sign_in(server.login().await).await.unwrap();
    store.fail_clear.store(true, Ordering::SeqCst);

    let error = session.sign_out().await.unwrap_err();

    assert!(matches!(error, SessionError::Store { .. }), "{error:?}");
    assert_eq!(session.state(), SessionState::Active);
    assert_eq!(status(&session).await, Ok(200), "still signed in, as the error said");
    let relaunched = Session::new(SessionConfig::new(server.base_url()), store.clone(), None).unwrap();
    assert_eq!(relaunched.restored_state().await, SessionState::Active, "and still signed in after a relaunch");
    store.fail_clear.store(false, Ordering::SeqCst);
    session.sign_out().await.unwrap();
    let events = recorder.wait_until(|e| e.contains(&SessionEvent::SignedOut)).await;
    assert_eq!(events, [SessionEvent::SignedIn, SessionEvent::SignedOut], "one SignedOut, for the real one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn building_a_session_never_reads_the_store_on_the_calling_thread() {
    let server = AuthServer::start();
    let store = Arc::new(GatedStore::default());
    store.inner.save(server.login().await).unwrap();
    store.load_gate.close();

    // With the read on this thread, `new` would wait at the closed gate.
    let session = Session::new(SessionConfig::new(server.base_url()), store.clone(), None).unwrap();
    assert_eq!(session.state(), SessionState::Loading);
    let request = tokio::spawn({
        let session = Arc::clone(&session);
        async move { status(&session).await }
    });
    store.load_gate.open();

    assert_eq!(session.restored_state().await, SessionState::Active);
    assert_eq!(request.await.unwrap(), Ok(200), "a request made while loading waited for the load");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_read_of_a_hung_store_is_bounded_by_the_store_timeout() {
    let server = AuthServer::start();
    let store = Arc::new(GatedStore::default());
    store.inner.save(server.login().await).unwrap();
    store.load_gate.close();
    let (session, _) = session_with(&server, store.clone(), |c| c.store_timeout_ms = 100);

    assert_eq!(session.restored_state().await, SessionState::Locked);
    assert!(matches!(status(&session).await, Err(SessionError::Store { .. })));

    store.load_gate.open();
    eventually("the store to be read once it answers", || async { status(&session).await == Ok(200) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_read_while_another_user_signs_in_never_overrides_the_sign_in() {
    let server = AuthServer::start();
    let store = Arc::new(GatedStore::default());
    store.inner.save(server.login().await).unwrap();
    store.load_gate.close();
    let (session, _) = session_with(&server, store.clone(), |_| {});
    let fresh = server.login().await;

    let signing_in = started(session.sign_in(fresh.clone())).await;
    store.load_gate.open();
    signing_in.await.unwrap();

    assert_eq!(session.access_token().await.unwrap(), fresh.access_token);
    assert_eq!(store.inner.get(), Some(fresh));
}
