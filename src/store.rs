//! The app's token storage (Keychain, Keystore, a file), and how the engine calls it:
//! off the runtime's workers, with a time bound, never under a lock.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::error::{SessionError, StoreError};
use crate::tokens::Tokens;

/// Where tokens persist, so users stay signed in across launches. Implemented in Kotlin
/// (Android Keystore), Swift (Keychain) or Rust. Calls come from a background thread.
/// A store may call the session's `state()` and `metrics()`; it must not wait for the
/// session's async methods, or the call waits out the store timeout.
#[uniffi::export(with_foreign)]
pub trait TokenStore: Send + Sync {
    /// The saved tokens, `None` when nobody is signed in. Throw `StoreError.Locked` when
    /// the store cannot be read now: the session then stays as it was.
    fn load(&self) -> Result<Option<Tokens>, StoreError>;
    /// Replaces the saved tokens. Should be atomic: a crash leaves the old or the new.
    fn save(&self, tokens: Tokens) -> Result<(), StoreError>;
    /// Removes the saved tokens.
    fn clear(&self) -> Result<(), StoreError>;
}

/// The store as the engine uses it: one call at a time, in the order the session made
/// them, each bounded by the store timeout. A call that is still queued when its caller
/// stops waiting never runs; one that already runs holds the line until it returns, so a
/// slow `save` can never land after a later `clear` (or a slow `clear` after a sign-in).
pub(crate) struct StoreHandle {
    line: mpsc::UnboundedSender<Job>,
    timeout: Duration,
}

type Job = Box<dyn FnOnce(&dyn TokenStore) + Send>;

impl StoreHandle {
    pub fn new(store: Arc<dyn TokenStore>, timeout: Duration) -> Self {
        let (line, mut jobs) = mpsc::unbounded_channel::<Job>();
        crate::runtime::spawn_detached(async move {
            while let Some(job) = jobs.recv().await {
                let store = Arc::clone(&store);
                // On the blocking pool: a slow Keychain must not stall requests.
                let _ = tokio::task::spawn_blocking(move || job(store.as_ref())).await;
            }
        });
        StoreHandle { line, timeout }
    }

    pub async fn load(&self) -> Result<Option<Tokens>, SessionError> {
        self.call(|s| s.load()).await
    }

    pub async fn save(&self, tokens: Tokens) -> Result<(), SessionError> {
        self.call(move |s| s.save(tokens)).await
    }

    pub async fn clear(&self) -> Result<(), SessionError> {
        self.call(|s| s.clear()).await
    }

    async fn call<T, F>(&self, f: F) -> Result<T, SessionError>
    where
        F: FnOnce(&dyn TokenStore) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let given_up = Arc::new(AtomicBool::new(false));
        let skip = Arc::clone(&given_up);
        let job: Job = Box::new(move |store| {
            if skip.load(Ordering::SeqCst) {
                return;
            }
            let result = catch_unwind(AssertUnwindSafe(|| crate::runtime::app_callback(|| f(store))));
            let _ = answer.send(result);
        });
        if self.line.send(job).is_err() {
            return Err(SessionError::Internal { detail: "the token store's queue is gone".into() });
        }
        match tokio::time::timeout(self.timeout, answered).await {
            Ok(Ok(Ok(result))) => result.map_err(SessionError::from),
            Ok(Ok(Err(_panic))) => Err(SessionError::Store { detail: "the token store panicked".into() }),
            Ok(Err(_)) => Err(SessionError::Internal { detail: "the token store call was dropped".into() }),
            Err(_elapsed) => {
                given_up.store(true, Ordering::SeqCst);
                Err(SessionError::Store { detail: "the token store did not answer in time".into() })
            }
        }
    }
}
