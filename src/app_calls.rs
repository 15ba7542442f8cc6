//! The one door to the app's code: its token store, refresh lock, DPoP key and listener.
//! Each call runs on a blocking thread of the library's own runtime (never a Rust caller's,
//! which may be shutting down and would drop it), marked as app code, its panic caught.
//! Whoever waits for the answer bounds that wait; a call that hangs holds only its own
//! thread, never a lock of the library nor the network thread.

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
    if crate::simulation::active() {
        return in_place(f);
    }
    crate::runtime::spawn_blocking(move || in_place(f)).await.unwrap_or(Err(Panicked))
}

/// Starts the app's `f` and does not wait for it: a release must happen whoever waits,
/// and wherever its owner is dropped (a caller's runtime shutting down, a plain thread).
pub(crate) fn start(f: impl FnOnce() + Send + 'static) {
    #[cfg(feature = "simulation")]
    if crate::simulation::active() {
        let _ = in_place(f);
        return;
    }
    drop(crate::runtime::spawn_blocking(move || in_place(f)));
}

/// Runs the app's `f` on this thread, which must be one that may block.
pub(crate) fn in_place<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    catch_unwind(AssertUnwindSafe(|| crate::runtime::app_callback(f))).map_err(|_| Panicked)
}

/// A callback that may hang and is called by many requests at once (the DPoP key): at
/// most `width` of its calls hold a thread. When they all hang, the next caller waits
/// for a place within its own bound and fails, instead of taking one more thread until
/// the store's and the lock's calls find none.
pub(crate) struct Lane {
    places: Arc<Semaphore>,
}

/// Why a call in a lane gave no answer.
pub(crate) enum LaneError {
    /// No answer (or no place in the lane) within the bound.
    TimedOut,
    Panicked,
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
    ) -> Result<T, LaneError> {
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
            Ok(Err(Panicked)) => Err(LaneError::Panicked),
            Err(_) => Err(LaneError::TimedOut),
        }
    }
}
