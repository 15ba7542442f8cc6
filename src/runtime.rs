//! The one tokio runtime the library runs on. Kotlin and Swift threads have no runtime
//! of their own, so every async entry point hops onto this one.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

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

/// Polls `fut` where it is awaited, with no task hop per call. On a Kotlin or Swift
/// thread the library's runtime is entered for each poll, so sockets and timers belong
/// to it and the response wakes the caller directly; a Rust caller already on a tokio
/// runtime keeps using its own (the refresh itself always runs on the library's
/// runtime). Dropping the future (a cancelled coroutine or Task) cancels `fut`, but not
/// what `fut` spawned. A panic becomes `SessionError::Internal`, never an unwind.
pub(crate) async fn run<T, F>(fut: F) -> Result<T, SessionError>
where
    F: Future<Output = Result<T, SessionError>>,
{
    InRuntime { inner: Box::pin(fut) }.await
}

struct InRuntime<F> {
    inner: Pin<Box<F>>,
}

impl<T, F: Future<Output = Result<T, SessionError>>> Future for InRuntime<F> {
    type Output = Result<T, SessionError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let _entered = RUNTIME.enter();
        match catch_unwind(AssertUnwindSafe(|| self.inner.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(_) => Poll::Ready(Err(SessionError::Internal { detail: "the library panicked".into() })),
        }
    }
}
