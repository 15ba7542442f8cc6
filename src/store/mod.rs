//! The app's token storage (Keychain, Keystore, a file), and how the engine calls it:
//! off the runtime's workers, with a time bound, never under a lock.

pub(crate) mod file_store;
pub(crate) mod refresh_lock;
pub(crate) mod shared_lock;

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::foundation::app_calls::{self, Unanswered};
use crate::store::refresh_lock::RefreshLock;
use crate::store::shared_lock::{Held, SharedLock};
use crate::types::error::{SessionError, StoreError};
use crate::types::tokens::Tokens;

/// Where tokens persist, so users stay signed in across launches. Implemented in Kotlin
/// (Android Keystore), Swift (Keychain) or Rust. Calls come from a background thread.
/// A store may call the session's `state()` and `metrics()`; it must not wait for the
/// session's async methods, or the call waits out the store timeout.
#[uniffi::export(with_foreign)]
pub trait TokenStore: Send + Sync {
    /// The saved tokens, or nothing (null / nil) when nobody is signed in. Fail with `StoreError::Locked`
    /// (Kotlin `StoreException.Locked`, Swift `StoreError.locked`) when the store cannot be
    /// read now: the session then stays as it was (`Locked`, which does not need sign-in).
    fn load(&self) -> Result<Option<Tokens>, StoreError>;
    /// Replaces the saved tokens. Should be atomic: a crash leaves the old or the new.
    fn save(&self, tokens: Tokens) -> Result<(), StoreError>;
    /// Removes the saved tokens.
    fn clear(&self) -> Result<(), StoreError>;
    /// The lock that processes sharing this store take around a refresh (see
    /// `fileRefreshLock`), or nothing (null / nil): then only one process may use the store, or two
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
    lock: tokio::sync::OnceCell<Option<SharedLock>>,
    /// The session's epoch as the store line sees it (see `Write::in_epoch`).
    pub epoch: Arc<AtomicU64>,
    /// The access token of what the store holds as this session's own: the last tokens
    /// it saved there (set when the save lands, waited for or not) or took from there.
    /// One value, so the store's own content is never news, however many saves fail.
    own: Arc<Mutex<Option<String>>>,
}

/// What goes with a write to the store.
#[derive(Default)]
pub(crate) struct Write {
    /// The write happens only if the session is still in this epoch when the store's
    /// turn comes: a refresh's save or an expiry's clear never lands over a sign-in or
    /// sign-out the store finished first.
    pub in_epoch: Option<u64>,
    /// Held until the store call returns, even after its caller stopped waiting: no
    /// other process reads or writes the store while this write may still land.
    pub lock: Option<Held>,
    /// Runs right after the store call succeeds, whether or not its caller still
    /// waits: a write that lands late still counts, so the session follows the store.
    pub then: Option<Box<dyn FnOnce() + Send>>,
}

type Call = Box<dyn FnOnce(&dyn TokenStore) + Send>;

const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const GIVEN_UP: u8 = 2;

/// Where a store call stands, shared by the line and the caller: a call its caller gave
/// up on (a timeout, or a cancelled caller) before it started never runs, and lets go of
/// the refresh lock at once; one that started holds the lock until it returns.
struct Ticket {
    state: AtomicU8,
    lock: Mutex<Option<Held>>,
}

impl Ticket {
    fn take_lock(&self) -> Option<Held> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The caller's side: dropped when the caller stops waiting, however that happens.
struct Waiting(Arc<Ticket>);

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.0.state.compare_exchange(QUEUED, GIVEN_UP, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            drop(self.0.take_lock());
        }
    }
}

/// A store call waiting in the line.
struct Job {
    ticket: Arc<Ticket>,
    call: Call,
}

impl Job {
    /// Takes the call off the line, with the lock it holds while it runs; `None` when its
    /// caller gave up first.
    fn start(&self) -> Option<Option<Held>> {
        let started = self.ticket.state.compare_exchange(QUEUED, STARTED, Ordering::SeqCst, Ordering::SeqCst);
        started.is_ok().then(|| self.ticket.take_lock())
    }

    fn run(self, store: &dyn TokenStore) {
        if let Some(_lock) = self.start() {
            (self.call)(store)
        }
    }
}

impl StoreHandle {
    pub fn new(store: Arc<dyn TokenStore>, timeout: Duration) -> Self {
        let (line, mut jobs) = mpsc::unbounded_channel::<Job>();
        let worker_store = Arc::clone(&store);
        crate::foundation::runtime::spawn_detached(async move {
            let store = worker_store;
            while let Some(job) = jobs.recv().await {
                let store = Arc::clone(&store);
                // Off the network thread: a slow Keychain must not stall requests.
                let _ = app_calls::call(move || job.run(store.as_ref())).await;
            }
        });
        StoreHandle {
            line,
            timeout,
            store: Arc::clone(&store),
            lock: tokio::sync::OnceCell::new(),
            epoch: Arc::default(),
            own: Arc::default(),
        }
    }

    /// The store line in a simulation: each call runs on the simulation's thread and
    /// takes the virtual time `call_time` says (holding the line meanwhile); its effect lands
    /// at the end, as a real store's would, even if its caller stopped waiting.
    #[cfg(feature = "simulation")]
    pub fn simulated(
        store: Arc<dyn TokenStore>,
        timeout: Duration,
        call_time: Arc<dyn Fn() -> Duration + Send + Sync>,
    ) -> Self {
        let (line, mut jobs) = mpsc::unbounded_channel::<Job>();
        let worker_store = Arc::clone(&store);
        crate::foundation::runtime::spawn_detached(async move {
            while let Some(job) = jobs.recv().await {
                let Some(lock) = job.start() else { continue };
                tokio::time::sleep(call_time()).await;
                (job.call)(worker_store.as_ref());
                drop(lock);
            }
        });
        StoreHandle {
            line,
            timeout,
            store,
            lock: tokio::sync::OnceCell::new(),
            epoch: Arc::default(),
            own: Arc::default(),
        }
    }

    /// Holds the store's refresh lock, waiting up to `bound` for another process to let
    /// it go; `Held::none()` when the store offers none. Only an answer is kept: a
    /// `refresh_lock()` that failed (a Kotlin or Swift exception arrives as a panic) or
    /// did not answer fails this call retryably and is asked again next time, since a
    /// store that may offer a lock must never be used without it.
    pub async fn lock_for_refresh(&self, bound: Duration) -> Result<Held, SessionError> {
        let (store, timeout) = (Arc::clone(&self.store), self.timeout);
        let lock = self
            .lock
            .get_or_try_init(|| async move {
                match app_calls::within(timeout, move || store.refresh_lock()).await {
                    Ok(lock) => Ok(lock.map(SharedLock::new)),
                    Err(Unanswered::Panicked) => {
                        Err(SessionError::Store { detail: "the token store's refresh_lock() failed".into() })
                    }
                    Err(Unanswered::TimedOut) => Err(SessionError::Store {
                        detail: "the token store's refresh_lock() did not answer in time".into(),
                    }),
                }
            })
            .await?;
        match lock {
            Some(lock) => lock.hold(bound, self.timeout).await,
            None => Ok(Held::none()),
        }
    }

    pub async fn load(&self) -> Result<Option<Tokens>, SessionError> {
        self.call(|s| s.load().map_err(SessionError::from), None).await
    }

    pub async fn save(&self, tokens: Tokens, mut write: Write) -> Result<(), SessionError> {
        let lock = write.lock.take();
        let leaves = Some(tokens.access_token.clone());
        self.call(self.written(write, leaves, move |s| s.save(tokens)), lock).await
    }

    pub async fn clear(&self, mut write: Write) -> Result<(), SessionError> {
        let lock = write.lock.take();
        self.call(self.written(write, None, |s| s.clear()), lock).await
    }

    /// Notes that the session took `tokens`, read from the store, as its own (adopted
    /// them, or refreshed from them): the store holding them is no news from then on.
    pub fn took(&self, tokens: &Tokens) {
        *lock_own(&self.own) = Some(tokens.access_token.clone());
    }

    /// Whether `stored` is what the store holds as this session's own.
    pub fn holds_own(&self, stored: &Tokens) -> bool {
        lock_own(&self.own).as_deref() == Some(stored.access_token.as_str())
    }

    /// A store write with what goes with it; `leaves` is the access token the store
    /// holds once it lands.
    fn written(
        &self,
        write: Write,
        leaves: Option<String>,
        f: impl FnOnce(&dyn TokenStore) -> Result<(), StoreError> + Send + 'static,
    ) -> impl FnOnce(&dyn TokenStore) -> Result<(), SessionError> + Send + 'static {
        let (epoch, own) = (Arc::clone(&self.epoch), Arc::clone(&self.own));
        move |store| {
            if write.in_epoch.is_some_and(|e| e != epoch.load(Ordering::SeqCst)) {
                return Err(SessionError::SessionChanged);
            }
            f(store)?;
            *lock_own(&own) = leaves;
            if let Some(then) = write.then {
                then();
            }
            Ok(())
        }
    }

    async fn call<T, F>(&self, f: F, lock: Option<Held>) -> Result<T, SessionError>
    where
        F: FnOnce(&dyn TokenStore) -> Result<T, SessionError> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let ticket = Arc::new(Ticket { state: AtomicU8::new(QUEUED), lock: Mutex::new(lock) });
        let _waiting = Waiting(Arc::clone(&ticket));
        let job = Job {
            ticket,
            call: Box::new(move |store| {
                let result = app_calls::in_place(|| f(store));
                let _ = answer.send(result);
            }),
        };
        if self.line.send(job).is_err() {
            return Err(SessionError::Internal { detail: "the token store's queue is gone".into() });
        }
        match tokio::time::timeout(self.timeout, answered).await {
            Ok(Ok(Ok(result))) => result,
            Ok(Ok(Err(_panic))) => Err(SessionError::Store { detail: "the token store panicked".into() }),
            Ok(Err(_)) => Err(SessionError::Internal { detail: "the token store call was dropped".into() }),
            Err(_elapsed) => Err(SessionError::Store { detail: "the token store did not answer in time".into() }),
        }
    }
}

fn lock_own(own: &Mutex<Option<String>>) -> std::sync::MutexGuard<'_, Option<String>> {
    own.lock().unwrap_or_else(|p| p.into_inner())
}
