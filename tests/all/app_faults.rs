//! Faults in the app's own code: slow stores, stores and listeners that fail, panic or
//! call back into the session. None may deadlock, crash or lose the session.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use refreshkit::{
    CallbackError, HttpRequest, RefreshLock, Session, SessionConfig, SessionError, SessionEvent, SessionListener,
    SessionState, StoreError, TokenStore, Tokens,
};

use crate::helpers::{concurrent_gets, AuthServer, MemoryStore};

/// A store that delegates to memory but sleeps, panics or calls the session as told.
#[derive(Default)]
struct TroubledStore {
    inner: MemoryStore,
    save_delay: Option<Duration>,
    panic_on_load: std::sync::atomic::AtomicBool,
    session: OnceLock<Weak<Session>>,
    seen_states: Mutex<Vec<SessionState>>,
}

impl TokenStore for TroubledStore {
    fn load(&self) -> Result<Option<Tokens>, StoreError> {
        if self.panic_on_load.load(std::sync::atomic::Ordering::SeqCst) {
            panic!("store bug");
        }
        self.inner.load()
    }

    fn save(&self, tokens: Tokens) -> Result<(), StoreError> {
        if let Some(delay) = self.save_delay {
            std::thread::sleep(delay);
        }
        if let Some(session) = self.session.get().and_then(Weak::upgrade) {
            // Calling back into the session from inside a store call.
            self.seen_states.lock().unwrap().push(session.state());
            let _ = session.metrics();
        }
        self.inner.save(tokens)
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.inner.clear()
    }

    fn refresh_lock(&self) -> Option<std::sync::Arc<dyn refreshkit::RefreshLock>> {
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_store_that_calls_back_into_the_session_neither_deadlocks_nor_refreshes_twice() {
    let server = AuthServer::start();
    let store = Arc::new(TroubledStore { save_delay: Some(Duration::from_millis(300)), ..Default::default() });
    let session = Session::new(SessionConfig::new(server.base_url()), store.clone(), None).unwrap();
    store.session.set(Arc::downgrade(&session)).unwrap();
    session.sign_in(server.login().await).await.unwrap();
    server.expire_all().await;

    let results = concurrent_gets(&session, 100, "/api/resource").await;

    assert!(results.iter().all(|r| r == &Ok(200)), "{results:?}");
    assert_eq!(server.stat("refreshes").await, 1);
    assert!(store.seen_states.lock().unwrap().contains(&SessionState::Refreshing), "the store saw the refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_panics_gives_a_store_error_and_the_session_survives() {
    let server = AuthServer::start();
    let store = Arc::new(TroubledStore::default());
    let session = Session::new(SessionConfig::new(server.base_url()), store.clone(), None).unwrap();
    session.sign_in(server.login().await).await.unwrap();
    server.expire_all().await;
    store.panic_on_load.store(true, std::sync::atomic::Ordering::SeqCst);

    let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();

    assert!(matches!(error, SessionError::Store { .. }), "{error:?}");
    store.panic_on_load.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
}

/// A listener that fails on every event and calls back into the session.
struct RudeListener {
    session: OnceLock<Weak<Session>>,
    events: Mutex<Vec<SessionEvent>>,
}

impl SessionListener for RudeListener {
    fn on_event(&self, event: SessionEvent) -> Result<(), CallbackError> {
        if let Some(session) = self.session.get().and_then(Weak::upgrade) {
            let _ = (session.state(), session.metrics());
        }
        self.events.lock().unwrap().push(event);
        Err(CallbackError::Failed { detail: "listener bug".into() })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_fails_and_calls_back_in_changes_nothing() {
    let server = AuthServer::start();
    let listener = Arc::new(RudeListener { session: OnceLock::new(), events: Mutex::new(Vec::new()) });
    let session =
        Session::new(SessionConfig::new(server.base_url()), Arc::new(MemoryStore::default()), Some(listener.clone()))
            .unwrap();
    listener.session.set(Arc::downgrade(&session)).unwrap();
    session.sign_in(server.login().await).await.unwrap();
    server.expire_all().await;

    let results = concurrent_gets(&session, 100, "/api/resource").await;
    session.sign_out().await.unwrap();

    assert!(results.iter().all(|r| r == &Ok(200)));
    for _ in 0..500 {
        if listener.events.lock().unwrap().contains(&SessionEvent::SignedOut) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let events = listener.events.lock().unwrap().clone();
    assert_eq!(events, [SessionEvent::SignedIn, SessionEvent::Refreshed, SessionEvent::SignedOut]);
}

/// A store whose `refresh_lock()` fails the first time it is asked (a Kotlin exception in
/// that infallible callback reaches Rust as a panic), then offers a lock that counts
/// how often it was taken.
#[derive(Default)]
struct LockFailsOnceStore {
    inner: MemoryStore,
    asked: AtomicU64,
    lock: Arc<CountingLock>,
}

#[derive(Default)]
struct CountingLock {
    held: AtomicBool,
    taken: AtomicU64,
}

impl RefreshLock for CountingLock {
    fn acquire(&self, _timeout_ms: u64) -> Result<bool, StoreError> {
        let free = !self.held.swap(true, Ordering::SeqCst);
        self.taken.fetch_add(u64::from(free), Ordering::SeqCst);
        Ok(free)
    }

    fn release(&self) -> Result<(), StoreError> {
        self.held.store(false, Ordering::SeqCst);
        Ok(())
    }
}

impl TokenStore for LockFailsOnceStore {
    fn load(&self) -> Result<Option<Tokens>, StoreError> {
        self.inner.load()
    }

    fn save(&self, tokens: Tokens) -> Result<(), StoreError> {
        self.inner.save(tokens)
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.inner.clear()
    }

    fn refresh_lock(&self) -> Option<Arc<dyn RefreshLock>> {
        if self.asked.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("refresh_lock() threw");
        }
        Some(self.lock.clone())
    }
}

/// Fails when a failed `refresh_lock()` is taken for "this store has no lock": the
/// first refresh runs unlocked, and no later one asks again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_lock_that_fails_once_fails_that_refresh_retryably_and_is_asked_again() {
    let server = AuthServer::start();
    let first = server.login().await;
    let store = Arc::new(LockFailsOnceStore { inner: MemoryStore::holding(first.clone()), ..Default::default() });
    let session = Session::new(SessionConfig::new(server.base_url()), store.clone(), None).unwrap();
    server.expire_all().await;

    let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();

    assert!(matches!(error, SessionError::Store { .. }) && error.is_retryable(), "{error:?}");
    assert_eq!(server.stat("refresh_requests").await, 0, "no refresh without the lock");
    assert_eq!((session.state(), store.inner.get()), (SessionState::Active, Some(first)), "the tokens are kept");

    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(store.asked.load(Ordering::SeqCst), 2, "asked again after the failure");
    assert_eq!(store.lock.taken.load(Ordering::SeqCst), 1, "the refresh held the lock");
}
