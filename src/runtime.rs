//! The one tokio runtime the library runs on. Kotlin and Swift threads have no runtime
//! of their own, so every async entry point hops onto this one.

use std::future::Future;

use once_cell::sync::Lazy;
use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;

use crate::error::SessionError;

/// Two workers: a phone has few cores to spare, and the work is waiting on the network.
static RUNTIME: Lazy<Runtime> = Lazy::new(|| {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("refreshkit")
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("refreshkit cannot start its runtime: {e}"))
});

/// Starts `fut` on the runtime; it runs to the end even if nobody awaits it.
pub(crate) fn spawn_detached<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    RUNTIME.spawn(fut)
}

/// Runs `fut` on the runtime and awaits it from any executor. Dropping the returned
/// future (a cancelled coroutine or Task) aborts `fut`, but not what `fut` spawned.
pub(crate) async fn run<T, F>(fut: F) -> Result<T, SessionError>
where
    F: Future<Output = Result<T, SessionError>> + Send + 'static,
    T: Send + 'static,
{
    let task = AbortOnDrop(RUNTIME.spawn(fut));
    task.join().await
}

struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> AbortOnDrop<Result<T, SessionError>> {
    async fn join(mut self) -> Result<T, SessionError> {
        match (&mut self.0).await {
            Ok(result) => result,
            Err(e) if e.is_cancelled() => Err(SessionError::Cancelled),
            Err(_) => Err(SessionError::Internal { detail: "a task of the library panicked".into() }),
        }
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
