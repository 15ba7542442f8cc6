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

/// One worker, the network thread (as Cronet has one): the work is waiting on sockets,
/// and a second worker only adds wake-ups between threads. Measured on 2 cores with the
/// server running (scripts/bench.sh): one worker 0.94 of bare reqwest's latency and
/// 0.95-1.02 of its throughput at 64 requests; two workers 1.10-1.31 and 0.92. Store
/// calls run on tokio's blocking threads, so a slow Keychain never holds it up.
static RUNTIME: Lazy<Runtime> = Lazy::new(|| {
    Builder::new_multi_thread()
        .worker_threads(1)
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

/// Runs `fut` for a caller of the public API and returns its result. A panic becomes
/// `SessionError::Internal`, never an unwind; dropping the returned future (a cancelled
/// coroutine or Task) cancels `fut`, but not what `fut` spawned (the refresh).
///
/// `fut` is polled with the library's runtime entered, so its sockets and timers belong
/// to that runtime. A Rust caller on a tokio runtime keeps polling it in place: no task
/// hop per call. A Kotlin or Swift caller polls it once in place (a token that is ready
/// comes back at once); if it must wait, the rest runs as a task on the library's
/// runtime, which wakes the caller once, when done: each wake is a call into the JVM or
/// Swift, and one is much cheaper than one per socket event.
pub(crate) async fn run<T, F>(fut: F) -> Result<T, SessionError>
where
    F: Future<Output = Result<T, SessionError>> + Send + 'static,
    T: Send + 'static,
{
    let mut fut = InRuntime { inner: Box::pin(fut) };
    if tokio::runtime::Handle::try_current().is_ok() {
        return fut.await;
    }
    let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut fut).poll(cx))).await;
    match first {
        Poll::Ready(result) => result,
        Poll::Pending => AbortOnDrop(RUNTIME.spawn(fut)).join().await,
    }
}

/// Runs `fut` to the end on the calling thread, which must not be a runtime's thread:
/// blocking one would stall every task it runs (and tokio panics on a nested block_on).
/// Sockets and timers still belong to the library's runtime, whose workers drive them.
pub(crate) fn block_on<T, F>(fut: F) -> Result<T, SessionError>
where
    F: Future<Output = Result<T, SessionError>>,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(SessionError::InvalidRequest {
            detail: "a blocking call was made on an async runtime's thread; use the async form".into(),
        });
    }
    RUNTIME.block_on(InRuntime { inner: Box::pin(fut) })
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
