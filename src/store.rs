//! The app's token storage (Keychain, Keystore, a file), and how the engine calls it:
//! off the runtime's workers, with a time bound, never under a lock.

use std::sync::Arc;
use std::time::Duration;

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

/// The store as the engine uses it.
pub(crate) struct StoreHandle {
    store: Arc<dyn TokenStore>,
    timeout: Duration,
}

impl StoreHandle {
    pub fn new(store: Arc<dyn TokenStore>, timeout: Duration) -> Self {
        StoreHandle { store, timeout }
    }

    /// A synchronous load, for the constructor only.
    pub fn load_now(&self) -> Result<Option<Tokens>, SessionError> {
        self.store.load().map_err(SessionError::from)
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

    /// Runs a store call on the blocking pool: a slow Keychain must not stall requests.
    async fn call<T, F>(&self, f: F) -> Result<T, SessionError>
    where
        F: FnOnce(&dyn TokenStore) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(&self.store);
        let task = tokio::task::spawn_blocking(move || crate::runtime::app_callback(|| f(store.as_ref())));
        match tokio::time::timeout(self.timeout, task).await {
            Ok(Ok(result)) => result.map_err(SessionError::from),
            Ok(Err(_panic)) => Err(SessionError::Store { detail: "the token store panicked".into() }),
            Err(_elapsed) => Err(SessionError::Store { detail: "the token store did not answer in time".into() }),
        }
    }
}
