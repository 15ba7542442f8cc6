//! Sign-in and sign-out while another OS process on the same `FileTokenStore` is in the
//! middle of a refresh: they wait for its refresh lock, so its rotated tokens land first
//! and the decision stands (the user stays signed out, or the new user stays signed in).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use refreshkit::{FileTokenStore, RefreshLock, StoreError, TokenStore, Tokens};
use serde_json::json;

use crate::helpers::{eventually, session_with, AuthServer, SessionChild};

/// A `FileTokenStore` that counts the session's attempts to take its refresh lock.
struct CountingStore {
    file: FileTokenStore,
    lock_attempts: Arc<AtomicU64>,
}

struct CountingLock {
    lock: Arc<dyn RefreshLock>,
    attempts: Arc<AtomicU64>,
}

impl RefreshLock for CountingLock {
    fn acquire(&self, timeout_ms: u64) -> Result<bool, StoreError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        self.lock.acquire(timeout_ms)
    }

    fn release(&self) -> Result<(), StoreError> {
        self.lock.release()
    }
}

impl TokenStore for CountingStore {
    fn load(&self) -> Result<Option<Tokens>, StoreError> {
        self.file.load()
    }

    fn save(&self, tokens: Tokens) -> Result<(), StoreError> {
        self.file.save(tokens)
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.file.clear()
    }

    fn refresh_lock(&self) -> Option<Arc<dyn RefreshLock>> {
        let lock = self.file.refresh_lock()?;
        Some(Arc::new(CountingLock { lock, attempts: Arc::clone(&self.lock_attempts) }))
    }
}

struct Scene {
    server: AuthServer,
    dir: PathBuf,
    path: PathBuf,
    other: SessionChild,
    session: Arc<refreshkit::Session>,
    lock_attempts: Arc<AtomicU64>,
}

/// Another process is refreshing (its refresh held at the server, its lock held), and
/// this process's session is signed in on the same store.
async fn another_process_mid_refresh(name: &str) -> Scene {
    let server = AuthServer::start();
    let dir = std::env::temp_dir().join(format!("refreshkit-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.json");
    FileTokenStore::new(&path).save(server.login().await).unwrap();
    let lock_attempts = Arc::new(AtomicU64::new(0));
    let store = CountingStore { file: FileTokenStore::new(&path), lock_attempts: Arc::clone(&lock_attempts) };
    let (session, _) = session_with(&server, Arc::new(store), |_| {});
    assert_eq!(session.restored_state().await, refreshkit::SessionState::Active);

    server.expire_all().await;
    server.fault(json!({"kind": "delay", "ms": 0, "gated": true})).await;
    let mut other = SessionChild::ready(&server.base_url(), &path, 5);
    other.go();
    eventually("the other process's refresh to reach the server", || async {
        server.stat("refresh_requests").await == 1
    })
    .await;
    Scene { server, dir, path, other, session, lock_attempts }
}

impl Scene {
    /// Lets the other process's refresh finish once `decision` waits for the lock (or,
    /// with a decision that does not take the lock, once it is done).
    async fn finish_the_refresh_after<T: Send + 'static>(&self, decision: tokio::task::JoinHandle<T>) -> T {
        eventually("the decision to wait for the lock, or to be done", || {
            std::future::ready(self.lock_attempts.load(Ordering::SeqCst) > 0 || decision.is_finished())
        })
        .await;
        self.server.post_json("/control/release", json!({})).await;
        decision.await.unwrap()
    }

    fn stored(&self) -> Option<Tokens> {
        FileTokenStore::new(&self.path).load().unwrap()
    }

    fn end(self) {
        let outcome = self.other.outcome();
        assert!(outcome.contains("errors="), "the other process finished: {outcome}");
        std::fs::remove_dir_all(&self.dir).unwrap();
    }
}

/// Fails with a sign-out that does not take the lock: the other process's rotated tokens
/// landed after the clear, and the user was signed in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_while_another_process_refreshes_stays_signed_out() {
    let scene = another_process_mid_refresh("signout-lock").await;
    let session = Arc::clone(&scene.session);

    let signing_out = tokio::spawn(async move { session.sign_out().await });
    assert_eq!(scene.finish_the_refresh_after(signing_out).await, Ok(()));

    assert_eq!(scene.server.stat("refreshes").await, 1, "the other process did rotate");
    assert_eq!(scene.stored(), None, "its rotated tokens landed before the clear, not after");
    scene.end();
}

/// Fails with a sign-in that does not take the lock: the other process saved the
/// previous user's rotated tokens over the new sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_while_another_process_refreshes_keeps_the_new_user() {
    let scene = another_process_mid_refresh("signin-lock").await;
    let next_user = scene.server.login().await;
    let session = Arc::clone(&scene.session);
    let tokens = next_user.clone();

    let signing_in = tokio::spawn(async move { session.sign_in(tokens).await });
    assert_eq!(scene.finish_the_refresh_after(signing_in).await, Ok(()));

    assert_eq!(scene.server.stat("refreshes").await, 1, "the other process did rotate");
    assert_eq!(scene.stored(), Some(next_user.clone()), "the new sign-in is what the store holds");
    assert_eq!(scene.session.access_token().await.unwrap(), next_user.access_token);
    scene.end();
}

/// Fails when an expiry outside a refresh clears the store without looking: a process
/// whose token without a refresh token was rejected wiped another process's new sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_without_a_refresh_token_never_wipes_another_processs_sign_in() {
    let server = AuthServer::start();
    let dir = std::env::temp_dir().join(format!("refreshkit-expiry-news-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.json");
    let (this, _) = session_with(&server, Arc::new(FileTokenStore::new(&path)), |_| {});
    let (other, _) = session_with(&server, Arc::new(FileTokenStore::new(&path)), |_| {});
    let mut no_refresh = server.login().await;
    no_refresh.refresh_token = None;
    this.sign_in(no_refresh).await.unwrap();

    server.expire_all().await;
    let next_user = server.login().await;
    other.sign_in(next_user.clone()).await.unwrap();
    let answer = this.execute(refreshkit::HttpRequest::get("/api/resource")).await.unwrap();

    assert_eq!(FileTokenStore::new(&path).load().unwrap(), Some(next_user), "the other process's sign-in stays");
    assert_eq!(answer.status, 200, "the last sign-in on the shared store wins, as a refresh would adopt it");
    std::fs::remove_dir_all(&dir).unwrap();
}
