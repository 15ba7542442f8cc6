//! The app's code that hangs or outlives its caller: a refresh lock whose release never
//! returns, a Rust caller's runtime shut down while its call holds the lock, a DPoP key
//! that stops answering. Each costs only the operations that called it, within their
//! bounds; the library and its other sessions go on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use refreshkit::{
    file_refresh_lock, software_dpop_key, DpopKey, DpopKeyError, FileRefreshLock, HttpRequest, RefreshLock, Session,
    SessionConfig, SessionError, StoreError,
};

use crate::helpers::{eventually, session_with, AuthServer, Gate, GatedStore, MemoryStore, PATIENCE};

/// A refresh lock whose `release` hangs, once told to, until the test ends.
struct HangingRelease {
    inner: Arc<dyn RefreshLock>,
    hang: AtomicBool,
    gate: Gate,
}

impl RefreshLock for HangingRelease {
    fn acquire(&self, timeout_ms: u64) -> Result<bool, StoreError> {
        self.inner.acquire(timeout_ms)
    }

    fn release(&self) -> Result<(), StoreError> {
        if self.hang.load(Ordering::SeqCst) {
            self.gate.pass();
        }
        self.inner.release()
    }
}

fn lock_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("refreshkit-{name}-{}.lock", std::process::id()))
}

/// Failed before the release ran outside the lock's bookkeeping mutex: the next refresh
/// waited on that mutex on the library's only network thread, and every session froze.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_lock_whose_release_hangs_stalls_no_other_session() {
    let server = AuthServer::start();
    let path = lock_path("hanging-release");
    let lock = Arc::new(HangingRelease {
        inner: file_refresh_lock(path.display().to_string()),
        hang: AtomicBool::new(false),
        gate: Default::default(),
    });
    lock.gate.close();
    let store = Arc::new(GatedStore { refresh_lock: Some(lock.clone()), ..Default::default() });
    let (locked, _) = session_with(&server, store, |c| c.refresh_timeout_ms = 1_000);
    let (other, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    locked.sign_in(server.login().await).await.unwrap();
    other.sign_in(server.login().await).await.unwrap();

    // The first refresh ends by releasing the lock, which then hangs.
    lock.hang.store(true, Ordering::SeqCst);
    server.expire_all().await;
    assert_eq!(locked.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    eventually("the release to hang", || async { lock.gate.waiting.load(Ordering::SeqCst) == 1 }).await;

    // The next refresh must wait for that release: it fails within its bound, retryably...
    server.expire_all().await;
    let waiting = tokio::spawn({
        let locked = locked.clone();
        async move { locked.execute(HttpRequest::get("/api/resource")).await }
    });
    // ...while the other session refreshes and serves as usual.
    for _ in 0..5 {
        let served = tokio::time::timeout(PATIENCE, other.execute(HttpRequest::get("/api/resource"))).await;
        assert_eq!(served.expect("the other session hung behind the release").unwrap().status, 200);
    }
    let stuck = tokio::time::timeout(PATIENCE, waiting).await.expect("the refresh waited past its bound").unwrap();
    assert!(stuck.as_ref().is_err_and(SessionError::is_retryable), "{stuck:?}");

    lock.gate.open();
    let _ = std::fs::remove_file(path);
}

/// Failed before releases ran on the library's own threads: the release was handed to
/// the caller's runtime as it shut down, which dropped it unrun, and the lock stayed
/// held (other processes locked out) until this process exited.
#[test]
fn a_callers_runtime_shut_down_while_its_call_holds_the_lock_releases_the_lock() {
    let server_runtime = tokio::runtime::Runtime::new().unwrap();
    let server = server_runtime.block_on(async { AuthServer::start() });
    let tokens = server_runtime.block_on(server.login());
    let path = lock_path("dying-runtime");
    let store = Arc::new(GatedStore {
        inner: MemoryStore::holding(tokens),
        refresh_lock: Some(file_refresh_lock(path.display().to_string())),
        ..Default::default()
    });
    // The session's first read of the store waits at the gate, so the sign-out's clear
    // stays queued behind it, holding the lock.
    store.load_gate.close();
    let session = Session::new(SessionConfig::new(server.base_url()), store.clone(), None).unwrap();
    let other_process = FileRefreshLock::new(&path);

    let callers = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let sign_out = callers.spawn({
        let session = session.clone();
        async move { session.sign_out().await }
    });
    callers.block_on(eventually("the sign-out to hold the lock", || async {
        match other_process.acquire(0) {
            Ok(true) => other_process.release().is_err(),
            _ => true,
        }
    }));
    assert!(!sign_out.is_finished());
    // As when a runtime is dropped from async code: its tasks are dropped on its
    // worker while its blocking pool refuses new work.
    callers.shutdown_background();

    let taken = || std::future::ready(other_process.acquire(0) == Ok(true));
    server_runtime.block_on(eventually("another process to take the lock after the caller's runtime shut down", taken));
    store.load_gate.open();
    other_process.release().unwrap();
    let _ = std::fs::remove_file(path);
}

/// A DPoP key whose `sign` hangs until the test ends.
struct HungKey {
    inner: Arc<dyn DpopKey>,
    hang: AtomicBool,
    gate: Gate,
}

impl DpopKey for HungKey {
    fn public_jwk(&self) -> Result<String, DpopKeyError> {
        self.inner.public_jwk()
    }

    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, DpopKeyError> {
        if self.hang.load(Ordering::SeqCst) {
            self.gate.pass();
        }
        self.inner.sign(message)
    }
}

/// Failed before the key's calls had a lane of their own: each request's proof held a
/// blocking thread, and once tokio's 512 were all waiting on the key, the store's calls
/// found none, so the sign-out timed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_dpop_key_leaves_threads_for_the_store() {
    let server = AuthServer::start_with(&["--dpop"]);
    let key = Arc::new(HungKey { inner: software_dpop_key(), hang: AtomicBool::new(false), gate: Default::default() });
    let store = Arc::new(MemoryStore::default());
    let mut config = SessionConfig::new(server.base_url());
    config.max_concurrent_requests = 1_000;
    let session = Session::with_dpop(config, store.clone(), key.clone(), None).unwrap();
    session.sign_in(server.login_with_proof(&session).await).await.unwrap();
    key.gate.close();
    key.hang.store(true, Ordering::SeqCst);

    let calls: Vec<_> = (0..600)
        .map(|_| {
            let session = session.clone();
            let mut request = HttpRequest::get("/api/resource");
            request.timeout_ms = Some(1_000);
            tokio::spawn(async move { session.execute(request).await })
        })
        .collect();
    for call in calls {
        let result = tokio::time::timeout(PATIENCE, call).await.expect("a request outlived its bound").unwrap();
        assert!(result.is_err(), "a request with a hung key was answered");
    }

    let signed_out = tokio::time::timeout(PATIENCE, session.sign_out()).await.expect("the sign-out hung");
    key.gate.open();
    assert_eq!(signed_out, Ok(()));
    assert!(store.get().is_none());
}
