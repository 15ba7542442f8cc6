//! The one door to the app's code: its token store, refresh lock, DPoP key, listener and
//! logger. Every call is marked as app code (so it may use the blocking entry points)
//! and its panic caught (a Kotlin or Swift exception in an infallible callback arrives
//! as one). Store, lock, key and listener calls run on a blocking thread of the
//! library's own runtime (never a Rust caller's, which may be shutting down and would
//! drop it); the logger's run in place on its own thread, in order. Whoever waits for an
//! answer bounds that wait (`within`, a `Lane`, the store line's timeout); a call that
//! hangs holds only its own thread, never a lock of the library nor the network thread.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

/// The app's code panicked (a Kotlin or Swift exception in an infallible callback
/// arrives as a panic too).
#[derive(Debug)]
pub(crate) struct Panicked;

/// Runs the app's `f` where app code runs, and waits for it; unbounded here (the caller
/// bounds the wait and may drop it: `f` still runs to its end).
pub(crate) async fn call<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Panicked> {
    #[cfg(feature = "simulation")]
    if crate::foundation::harness::active() {
        return in_place(f);
    }
    crate::foundation::runtime::spawn_blocking(move || in_place(f)).await.unwrap_or(Err(Panicked))
}

/// Why a call into the app's code gave no answer.
#[derive(Debug)]
pub(crate) enum Unanswered {
    /// No answer within the bound; the call goes on to its end on its own thread.
    TimedOut,
    Panicked,
}

/// `call`, waiting at most `bound` for the answer.
pub(crate) async fn within<T: Send + 'static>(
    bound: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Unanswered> {
    match tokio::time::timeout(bound, call(f)).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(Panicked)) => Err(Unanswered::Panicked),
        Err(_) => Err(Unanswered::TimedOut),
    }
}

/// Starts the app's `f` and does not wait for it: a release must happen whoever waits,
/// and wherever its owner is dropped (a caller's runtime shutting down, a plain thread).
pub(crate) fn start(f: impl FnOnce() + Send + 'static) {
    #[cfg(feature = "simulation")]
    if crate::foundation::harness::active() {
        let _ = in_place(f);
        return;
    }
    drop(crate::foundation::runtime::spawn_blocking(move || in_place(f)));
}

/// Runs the app's `f` on this thread, which must be one that may block.
pub(crate) fn in_place<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    catch_unwind(AssertUnwindSafe(|| crate::foundation::runtime::app_callback(f))).map_err(|_| Panicked)
}

/// A callback that may hang and is called by many requests at once (the DPoP key): at
/// most `width` of its calls hold a thread. When they all hang, the next caller waits
/// for a place within its own bound and fails, instead of taking one more thread until
/// the store's and the lock's calls find none.
pub(crate) struct Lane {
    places: Arc<Semaphore>,
}

impl Lane {
    pub fn new(width: usize) -> Lane {
        Lane { places: Arc::new(Semaphore::new(width)) }
    }

    /// Runs `f` in the lane, waiting at most `within` for a place and the answer.
    pub async fn call<T: Send + 'static>(
        &self,
        within: Duration,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Unanswered> {
        let places = Arc::clone(&self.places);
        let answered = tokio::time::timeout(within, async move {
            let Ok(place) = places.acquire_owned().await else { return Err(Panicked) };
            // The place goes with the call, so a hung call keeps it until it returns.
            call(move || {
                let _place = place;
                f()
            })
            .await
        });
        match answered.await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(Panicked)) => Err(Unanswered::Panicked),
            // No answer, or no place in the lane, within the bound.
            Err(_) => Err(Unanswered::TimedOut),
        }
    }
}
