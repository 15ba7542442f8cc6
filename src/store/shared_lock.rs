//! The store's refresh lock as one session holds it: exclusive against other processes,
//! shared by the session's own refresh, re-save, sign-in and sign-out (the engine orders
//! those among themselves), and held until the last holder is done, including a store
//! call still running after its caller stopped waiting.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::foundation::app_calls;
use crate::store::refresh_lock::RefreshLock;
use crate::types::error::SessionError;

pub(crate) struct SharedLock {
    lock: Arc<dyn RefreshLock>,
    holders: Arc<Mutex<Holders>>,
    releases: Releases,
    /// One acquirer at a time, so two never both ask the app's lock.
    turn: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Holders {
    count: usize,
    /// The app's lock is taken (by this session), perhaps with a release pending.
    taken: bool,
    /// Bumped whenever the lock is taken anew; a pending release for an older one
    /// does nothing, so a new holder can take over a lock about to be released.
    taking: u64,
}

/// The app's `release` calls under way. They run outside every mutex (a slow or hung
/// release must not stall the thread that drops a `Held`), so the lock is asked again
/// only once they have returned: one holder at a time, as the app's lock expects.
#[derive(Clone)]
struct Releases(Arc<watch::Sender<usize>>);

impl Releases {
    fn new() -> Releases {
        Releases(Arc::new(watch::channel(0).0))
    }

    /// Releases the app's lock, counted while the app's code runs.
    fn release(&self, lock: &dyn RefreshLock) {
        self.begin();
        release(lock);
        self.end();
    }

    /// Marks a release as under way before it starts (under the holders' mutex).
    fn begin(&self) {
        self.0.send_modify(|n| *n += 1);
    }

    fn end(&self) {
        self.0.send_modify(|n| *n -= 1);
    }

    async fn none_under_way(&self) {
        let _ = self.0.subscribe().wait_for(|n| *n == 0).await;
    }
}

/// The lock while held; the app's lock is released when the last one is dropped.
pub(crate) struct Held {
    shared: Option<Holding>,
}

struct Holding {
    lock: Arc<dyn RefreshLock>,
    holders: Arc<Mutex<Holders>>,
    releases: Releases,
}

impl Held {
    pub fn none() -> Held {
        Held { shared: None }
    }

    /// Whether this holds a lock (a store without one gives `none`).
    pub fn is_held(&self) -> bool {
        self.shared.is_some()
    }

    /// One more holder of the same lock: it stays held until both are dropped.
    pub fn share(&self) -> Held {
        let Some(h) = &self.shared else { return Held::none() };
        holders(&h.holders).count += 1;
        Held {
            shared: Some(Holding {
                lock: Arc::clone(&h.lock),
                holders: Arc::clone(&h.holders),
                releases: h.releases.clone(),
            }),
        }
    }
}

fn holders(m: &Mutex<Holders>) -> MutexGuard<'_, Holders> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(holding) = self.shared.take() else { return };
        let ticket = {
            let mut h = holders(&holding.holders);
            h.count -= 1;
            if h.count > 0 {
                return;
            }
            h.taking
        };
        // On the library's own blocking threads: the thread dropping this may be a
        // caller's runtime shutting down, or the network thread.
        app_calls::start(move || holding.release_unless_claimed(ticket));
    }
}

impl Holding {
    fn release_unless_claimed(self, ticket: u64) {
        {
            let mut h = holders(&self.holders);
            if h.count > 0 || !h.taken || h.taking != ticket {
                return;
            }
            h.taken = false;
            // Under the mutex: an acquirer that finds the lock not taken also finds
            // its release under way, and waits for it.
            self.releases.begin();
        }
        release(self.lock.as_ref());
        self.releases.end();
    }
}

pub(crate) fn release(lock: &dyn RefreshLock) {
    if !matches!(app_calls::in_place(|| lock.release()), Ok(Ok(()))) {
        log::warn!(target: "refreshkit", "the refresh lock could not be released");
    }
}

impl SharedLock {
    pub fn new(lock: Arc<dyn RefreshLock>) -> SharedLock {
        SharedLock { lock, holders: Arc::default(), releases: Releases::new(), turn: tokio::sync::Mutex::new(()) }
    }

    /// Holds the lock, waiting up to `bound` for another process to let it go (plus
    /// `grace` for an app lock that overruns its own timeout).
    pub async fn hold(&self, bound: Duration, grace: Duration) -> Result<Held, SessionError> {
        let took = tokio::time::timeout(bound + grace, async {
            let _turn = self.turn.lock().await;
            if self.join() {
                return Ok(());
            }
            self.releases.none_under_way().await;
            self.take(bound).await?;
            let mut h = holders(&self.holders);
            (h.count, h.taken, h.taking) = (1, true, h.taking + 1);
            Ok(())
        });
        match took.await {
            Ok(Ok(())) => Ok(Held {
                shared: Some(Holding {
                    lock: Arc::clone(&self.lock),
                    holders: Arc::clone(&self.holders),
                    releases: self.releases.clone(),
                }),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SessionError::Timeout),
        }
    }

    /// Joins the holders when this session already has the app's lock.
    fn join(&self) -> bool {
        let mut h = holders(&self.holders);
        if !h.taken {
            return false;
        }
        h.count += 1;
        // A release pending from the last holder must leave it taken.
        h.taking += 1;
        true
    }

    /// Asks the app's lock, off the runtime's workers.
    /// Unbounded here: `hold`'s timeout bounds it, and `Attempt` releases a lock acquired
    /// after that.
    async fn take(&self, bound: Duration) -> Result<(), SessionError> {
        #[cfg(feature = "simulation")]
        if crate::foundation::harness::active() {
            return self.take_in_simulation(bound).await;
        }
        let attempt = Attempt {
            progress: Arc::new(AtomicU8::new(WAITING)),
            lock: Arc::clone(&self.lock),
            releases: self.releases.clone(),
        };
        let (lock, progress, releases) = (Arc::clone(&self.lock), Arc::clone(&attempt.progress), self.releases.clone());
        let millis = bound.as_millis().min(u64::MAX as u128) as u64;
        let acquiring = app_calls::call(move || {
            let acquired = app_calls::in_place(|| lock.acquire(millis));
            // A caller that stopped waiting must not leave the lock held by nobody.
            let got = matches!(acquired, Ok(Ok(true)));
            if got && progress.compare_exchange(WAITING, ACQUIRED, Ordering::SeqCst, Ordering::SeqCst).is_err() {
                releases.release(lock.as_ref());
            }
            acquired
        });
        match acquiring.await {
            Ok(Ok(Ok(true))) => {
                attempt.progress.store(CLAIMED, Ordering::SeqCst);
                Ok(())
            }
            Ok(Ok(Ok(false))) => Err(SessionError::Timeout),
            Ok(Ok(Err(e))) => Err(SessionError::from(e)),
            Ok(Err(_)) | Err(_) => Err(SessionError::Store { detail: "the refresh lock panicked".into() }),
        }
    }

    /// `take` in a simulation: the lock is tried without waiting, every `POLL` of
    /// virtual time, as `FileRefreshLock` polls.
    #[cfg(feature = "simulation")]
    async fn take_in_simulation(&self, bound: Duration) -> Result<(), SessionError> {
        const POLL: Duration = Duration::from_millis(5);
        let deadline = crate::foundation::clock::Instant::now() + bound;
        loop {
            match app_calls::in_place(|| self.lock.acquire(0)) {
                Ok(Ok(true)) => return Ok(()),
                Ok(Ok(false)) => {}
                Ok(Err(e)) => return Err(SessionError::from(e)),
                Err(_) => return Err(SessionError::Store { detail: "the refresh lock panicked".into() }),
            }
            if crate::foundation::clock::Instant::now() >= deadline {
                return Err(SessionError::Timeout);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

const WAITING: u8 = 0;
const ACQUIRED: u8 = 1;
const GAVE_UP: u8 = 2;
const CLAIMED: u8 = 3;

/// An acquisition of the app's lock; when its caller stops waiting (a timeout, or the
/// caller's future dropped) before claiming it, a lock acquired meanwhile or later is
/// released, never left held by nobody.
struct Attempt {
    progress: Arc<AtomicU8>,
    lock: Arc<dyn RefreshLock>,
    releases: Releases,
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.progress.swap(GAVE_UP, Ordering::SeqCst) == ACQUIRED {
            let (lock, releases) = (Arc::clone(&self.lock), self.releases.clone());
            app_calls::start(move || releases.release(lock.as_ref()));
        }
    }
}
