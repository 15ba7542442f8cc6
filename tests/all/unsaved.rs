//! A refresh whose rotated tokens could not be saved, on a store other processes share:
//! the store still holds the refresh token this process just spent. The process keeps
//! the store's refresh lock until the re-save lands, so the others wait (bounded) and
//! fail retryably instead of spending it again, which would sign the user out.

use std::sync::Arc;

use refreshkit::{file_refresh_lock, HttpRequest, RefreshLock, SessionError, StoreError, TokenStore, Tokens};

use crate::helpers::{eventually, session_with, AuthServer, MemoryStore};

/// One process's view of a shared store: the same storage, its own lock object on the
/// shared lock file (as each process opens its own).
struct ProcessStore {
    storage: Arc<MemoryStore>,
    lock: Arc<dyn RefreshLock>,
}

impl TokenStore for ProcessStore {
    fn load(&self) -> Result<Option<Tokens>, StoreError> {
        self.storage.load()
    }

    fn save(&self, tokens: Tokens) -> Result<(), StoreError> {
        self.storage.save(tokens)
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.storage.clear()
    }

    fn refresh_lock(&self) -> Option<Arc<dyn RefreshLock>> {
        Some(Arc::clone(&self.lock))
    }
}

/// Failed before the lock was kept: the second process took the lock as soon as the
/// first's save failed, found the spent refresh token in the store, spent it again, and
/// the server's reuse detection ended the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_whose_save_failed_keeps_the_others_from_spending_its_refresh_token() {
    let server = AuthServer::start();
    let path = std::env::temp_dir().join(format!("refreshkit-unsaved-{}.lock", std::process::id()));
    let storage = Arc::new(MemoryStore::default());
    let process = || {
        let lock = file_refresh_lock(path.display().to_string());
        Arc::new(ProcessStore { storage: Arc::clone(&storage), lock })
    };
    let (first, _) = session_with(&server, process(), |_| {});
    first.sign_in(server.login().await).await.unwrap();
    let (second, _) = session_with(&server, process(), |c| c.refresh_timeout_ms = 500);
    assert_eq!(second.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);

    server.expire_all().await;
    storage.fail_save(true);
    assert_eq!(first.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    let waited = second.execute(HttpRequest::get("/api/resource")).await;

    assert!(waited.as_ref().is_err_and(SessionError::is_retryable), "{waited:?}");
    assert_eq!(server.stat("reuse_detected").await, 0, "a refresh token was spent twice");

    // Once the store takes the re-save, the lock goes, and the second adopts the tokens.
    storage.fail_save(false);
    eventually("the second process to be served again", || async {
        second.execute(HttpRequest::get("/api/resource")).await.is_ok_and(|r| r.status == 200)
    })
    .await;
    assert_eq!(server.stat("reuse_detected").await, 0);
    assert_eq!(server.stat("refreshes").await, 1, "one refresh for both processes");
    let _ = std::fs::remove_file(path);
}
