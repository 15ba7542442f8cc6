//! The app's token storage (Keychain, Keystore, a file), and how the engine calls it:
//! off the runtime's workers, with a time bound, never under a lock.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::error::{SessionError, StoreError};
use crate::refresh_lock::RefreshLock;
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
    /// The lock that processes sharing this store take around a refresh (see
    /// `file_refresh_lock`), or `None`: then only one process may use the store, or two
    /// may refresh at once and spend one refresh token twice.
    fn refresh_lock(&self) -> Option<Arc<dyn RefreshLock>>;
}

/// The store as the engine uses it: one call at a time, in the order the session made
/// them, each bounded by the store timeout. A call that is still queued when its caller
/// stops waiting never runs; one that already runs holds the line until it returns, so a
/// slow `save` can never land after a later `clear` (or a slow `clear` after a sign-in).
pub(crate) struct StoreHandle {
    line: mpsc::UnboundedSender<Job>,
    timeout: Duration,
    store: Arc<dyn TokenStore>,
    /// The store's lock, asked for once, off the caller's thread.
    lock: tokio::sync::OnceCell<Option<Arc<dyn RefreshLock>>>,
}

/// The refresh lock while a refresh holds it; released when dropped, on every path.
pub(crate) struct HeldLock(Option<Arc<dyn RefreshLock>>);

impl Drop for HeldLock {
    fn drop(&mut self) {
        if let Some(lock) = self.0.take() {
            #[cfg(feature = "simulation")]
            if crate::simulation::active() {
                return release(lock.as_ref());
            }
            tokio::task::spawn_blocking(move || release(lock.as_ref()));
        }
    }
}

fn release(lock: &dyn RefreshLock) {
    let released = catch_unwind(AssertUnwindSafe(|| crate::runtime::app_callback(|| lock.release())));
    if !matches!(released, Ok(Ok(()))) {
        log::warn!(target: "refreshkit", "the refresh lock could not be released");
    }
}

type Call = Box<dyn FnOnce(&dyn TokenStore) + Send>;

/// A store call waiting in the line; skipped if its caller stopped waiting before it ran.
struct Job {
    given_up: Arc<AtomicBool>,
    call: Call,
}

impl Job {
    fn run(self, store: &dyn TokenStore) {
        if !self.given_up.load(Ordering::SeqCst) {
            (self.call)(store)
        }
    }
}

impl StoreHandle {
    pub fn new(store: Arc<dyn TokenStore>, timeout: Duration) -> Self {
        let (line, mut jobs) = mpsc::unbounded_channel::<Job>();
        let worker_store = Arc::clone(&store);
        crate::runtime::spawn_detached(async move {
            let store = worker_store;
            while let Some(job) = jobs.recv().await {
                let store = Arc::clone(&store);
                // On the blocking pool: a slow Keychain must not stall requests.
                let _ = tokio::task::spawn_blocking(move || job.run(store.as_ref())).await;
            }
        });
        StoreHandle { line, timeout, store: Arc::clone(&store), lock: tokio::sync::OnceCell::new() }
    }

    /// The store line in a simulation: each call runs on the simulation's thread and
    /// takes the virtual time `world` says (holding the line meanwhile); its effect lands
    /// at the end, as a real store's would, even if its caller stopped waiting.
    #[cfg(feature = "simulation")]
    pub fn simulated(store: Arc<dyn TokenStore>, timeout: Duration, world: Arc<dyn crate::simulation::World>) -> Self {
        let (line, mut jobs) = mpsc::unbounded_channel::<Job>();
        let worker_store = Arc::clone(&store);
        crate::runtime::spawn_detached(async move {
            while let Some(job) = jobs.recv().await {
                if job.given_up.load(Ordering::SeqCst) {
                    continue;
                }
                tokio::time::sleep(world.store_call_time()).await;
                (job.call)(worker_store.as_ref());
            }
        });
        StoreHandle { line, timeout, store, lock: tokio::sync::OnceCell::new() }
    }

    /// `lock_for_refresh` in a simulation: the lock is tried without waiting, every
    /// `POLL` of virtual time, as `FileRefreshLock` polls.
    #[cfg(feature = "simulation")]
    async fn lock_in_simulation(&self, bound: Duration) -> Result<HeldLock, SessionError> {
        const POLL: Duration = Duration::from_millis(5);
        let store = Arc::clone(&self.store);
        let lock = self
            .lock
            .get_or_init(|| async move {
                catch_unwind(AssertUnwindSafe(|| crate::runtime::app_callback(|| store.refresh_lock()))).ok().flatten()
            })
            .await;
        let Some(lock) = lock.clone() else { return Ok(HeldLock(None)) };
        let deadline = crate::clock::Instant::now() + bound;
        loop {
            match catch_unwind(AssertUnwindSafe(|| lock.acquire(0))) {
                Ok(Ok(true)) => return Ok(HeldLock(Some(lock))),
                Ok(Ok(false)) => {}
                Ok(Err(e)) => return Err(SessionError::from(e)),
                Err(_) => return Err(SessionError::Store { detail: "the refresh lock panicked".into() }),
            }
            if crate::clock::Instant::now() >= deadline {
                return Err(SessionError::Timeout);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Takes the store's refresh lock, waiting up to `bound`. `Ok(None)` when the store
    /// offers none; an error when another holder kept it all that time.
    pub async fn lock_for_refresh(&self, bound: Duration) -> Result<HeldLock, SessionError> {
        #[cfg(feature = "simulation")]
        if crate::simulation::active() {
            return self.lock_in_simulation(bound).await;
        }
        let store = Arc::clone(&self.store);
        let lock = self
            .lock
            .get_or_init(|| async move {
                let asked = tokio::task::spawn_blocking(move || {
                    catch_unwind(AssertUnwindSafe(|| crate::runtime::app_callback(|| store.refresh_lock())))
                });
                asked.await.ok().and_then(Result::ok).flatten()
            })
            .await;
        let Some(lock) = lock.clone() else { return Ok(HeldLock(None)) };
        let given_up = Arc::new(AtomicBool::new(false));
        let (attempt, gave_up) = (Arc::clone(&lock), Arc::clone(&given_up));
        let millis = bound.as_millis().min(u64::MAX as u128) as u64;
        let acquiring = tokio::task::spawn_blocking(move || {
            let acquired = catch_unwind(AssertUnwindSafe(|| crate::runtime::app_callback(|| attempt.acquire(millis))));
            // A caller that stopped waiting must not leave the lock held by nobody.
            if matches!(acquired, Ok(Ok(true))) && gave_up.load(Ordering::SeqCst) {
                release(attempt.as_ref());
            }
            acquired
        });
        let outcome = tokio::time::timeout(bound + self.timeout, acquiring).await;
        match outcome {
            Ok(Ok(Ok(Ok(true)))) => Ok(HeldLock(Some(lock))),
            Ok(Ok(Ok(Ok(false)))) => Err(SessionError::Timeout),
            Ok(Ok(Ok(Err(e)))) => Err(SessionError::from(e)),
            Ok(Ok(Err(_))) | Ok(Err(_)) => Err(SessionError::Store { detail: "the refresh lock panicked".into() }),
            Err(_) => {
                given_up.store(true, Ordering::SeqCst);
                Err(SessionError::Timeout)
            }
        }
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
        let job = Job {
            given_up: Arc::clone(&given_up),
            call: Box::new(move |store| {
                let result = catch_unwind(AssertUnwindSafe(|| crate::runtime::app_callback(|| f(store))));
                let _ = answer.send(result);
            }),
        };
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
