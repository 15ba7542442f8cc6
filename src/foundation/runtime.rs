//! The one tokio runtime the library runs on. Kotlin and Swift threads have no runtime
//! of their own, so every async entry point hops onto this one.

use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use once_cell::sync::Lazy;
use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;

use crate::types::error::SessionError;

/// One worker, the network thread (as Cronet has one): the work is waiting on sockets,
/// and a second worker only adds wake-ups between threads. Measured on 2 cores with the
/// server running (scripts/bench.sh): one worker 0.94 of bare reqwest's latency and
/// 0.95-1.02 of its throughput at 64 requests; two workers 1.10-1.31 and 0.92. Store
/// calls run on tokio's blocking threads, so a slow Keychain never holds it up.
static RUNTIME: Lazy<Runtime> = Lazy::new(|| {
    Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("refreshkit")
        .on_thread_start(|| OWN_THREAD.set(true))
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("refreshkit cannot start its runtime: {e}"))
});

thread_local! {
    /// Set on the runtime's threads: its worker and its blocking threads.
    static OWN_THREAD: Cell<bool> = const { Cell::new(false) };
    /// Set while a blocking thread runs the app's store or listener code.
    static IN_APP_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// Runs the app's code (`TokenStore`, `SessionListener`) on a blocking thread, marked so
/// that it may call the blocking entry points: blocking is what those threads are for.
pub(crate) fn app_callback<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            IN_APP_CALLBACK.set(self.0);
        }
    }
    let _restore = Restore(IN_APP_CALLBACK.replace(true));
    f()
}

/// Runs synchronous work that may block for long (the platform's certificate check can
/// fetch revocation data over the network). On the runtime's worker it first hands the
/// worker's other tasks and its sockets to another thread, so one handshake never stalls
/// every request; elsewhere (a caller's thread, or a blocking thread running the app's
/// code, which may have a runtime of its own) the thread that waits is one that may.
pub(crate) fn may_block<T>(f: impl FnOnce() -> T) -> T {
    if OWN_THREAD.get() && !IN_APP_CALLBACK.get() {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// Starts `fut` on the runtime; it runs to the end even if nobody awaits it.
pub(crate) fn spawn_detached(fut: impl Future<Output = ()> + Send + 'static) {
    #[cfg(feature = "simulation")]
    if let Some(harness) = crate::foundation::harness::installed() {
        return harness.spawn(Box::pin(fut));
    }
    drop(RUNTIME.spawn(fut));
}

/// Runs `f`, which may block, on the library's blocking threads, wherever its caller is:
/// a Rust caller's runtime may be shutting down, and would drop it unrun.
pub(crate) fn spawn_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    RUNTIME.spawn_blocking(f)
}

/// The library's runtime, told apart from a caller's.
pub(crate) fn library_id() -> tokio::runtime::Id {
    RUNTIME.handle().id()
}

/// Enters the library's runtime, so sockets and timers belong to it; a harness keeps
/// everything on the runtime it owns.
fn enter_own() -> Option<tokio::runtime::EnterGuard<'static>> {
    #[cfg(feature = "simulation")]
    if crate::foundation::harness::active() {
        return None;
    }
    Some(RUNTIME.enter())
}

/// Where a Rust caller's sockets and timers live (see `Session::use_callers_runtime`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sockets {
    Library,
    /// The runtime the caller polls from, when there is one.
    Callers,
}

/// Runs `fut` for a caller of the public API and returns its result. A panic becomes
/// `SessionError::Internal`, never an unwind; dropping the returned future (a cancelled
/// coroutine or Task) cancels `fut`, but not what `fut` spawned (the refresh).
///
/// `fut` is polled with the library's runtime entered, so its sockets and timers belong
/// to that runtime (unless `sockets` is `Callers` and the caller is on a runtime). A
/// Rust caller on a tokio runtime keeps polling it in place: no task hop per call. A Kotlin or Swift caller polls it once in place (a token that is ready
/// comes back at once); if it must wait, the rest runs as a task on the library's
/// runtime, which wakes the caller once, when done: each wake is a call into the JVM or
/// Swift, and one is much cheaper than one per socket event.
///
/// `fut` is boxed at once, so the caller's future holds a pointer to it, not `fut` itself.
pub(crate) fn run<T, F>(fut: F, sockets: Sockets) -> impl Future<Output = Result<T, SessionError>>
where
    F: Future<Output = Result<T, SessionError>> + Send + 'static,
    T: Send + 'static,
{
    let mut fut = InRuntime { inner: Box::pin(fut), enter: true };
    async move {
        let on_a_runtime = tokio::runtime::Handle::try_current().is_ok();
        fut.enter = !(on_a_runtime && sockets == Sockets::Callers);
        if on_a_runtime {
            return fut.await;
        }
        let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut fut).poll(cx))).await;
        match first {
            Poll::Ready(result) => result,
            Poll::Pending => AbortOnDrop(RUNTIME.spawn(fut)).join().await,
        }
    }
}

/// Runs `fut` to the end on the calling thread, which must not run async tasks: blocking
/// it would stall every task it runs (and tokio panics on a nested block_on). The app's
/// store and listener code may call it. Sockets and timers still belong to the library's
/// runtime, whose worker drives them.
pub(crate) fn block_on<T, F>(fut: F) -> Result<T, SessionError>
where
    F: Future<Output = Result<T, SessionError>>,
{
    if tokio::runtime::Handle::try_current().is_ok() && !IN_APP_CALLBACK.get() {
        return Err(SessionError::InvalidRequest {
            detail: "a blocking call was made on an async runtime's thread; use the async form".into(),
        });
    }
    RUNTIME.block_on(InRuntime { inner: Box::pin(fut), enter: true })
}

/// Runs `fut` as a task on the library's runtime and blocks the calling thread (a JVM
/// thread, never a runtime's) until it ends, or until `cancelled` completes, which drops it
/// (what it spawned, the refresh, goes on) and gives `Cancelled`. Unlike `block_on`, the
/// worker both polls the call and owns its sockets, so the caller is woken once, when the
/// call ends, not at every socket event (api/encoded_call.rs; BENCHMARKS.md §3).
pub(crate) fn block_on_call<T, F>(fut: F, cancelled: impl Future<Output = ()>) -> Result<T, SessionError>
where
    F: Future<Output = Result<T, SessionError>> + Send + 'static,
    T: Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_ok() && !IN_APP_CALLBACK.get() {
        return Err(SessionError::InvalidRequest {
            detail: "a blocking call was made on an async runtime's thread; use the async form".into(),
        });
    }
    let task = AbortOnDrop(RUNTIME.spawn(InRuntime { inner: Box::pin(fut), enter: false }));
    RUNTIME.block_on(async move {
        tokio::select! {
            result = task.join() => result,
            () = cancelled => Err(SessionError::Cancelled),
        }
    })
}

/// Runs `fut` as a task on the library's runtime, which hands its result to `done` there:
/// its end, or `Cancelled` once `cancelled` completes first (what it spawned, the refresh,
/// goes on). A panic in `fut` becomes `Internal`. For callers that must not block.
pub(crate) fn spawn_call<T, F>(
    fut: F,
    cancelled: impl Future<Output = ()> + Send + 'static,
    done: impl FnOnce(Result<T, SessionError>) + Send + 'static,
) where
    F: Future<Output = Result<T, SessionError>> + Send + 'static,
    T: Send + 'static,
{
    let call = InRuntime { inner: Box::pin(fut), enter: false };
    drop(RUNTIME.spawn(async move {
        let result = tokio::select! {
            result = call => result,
            () = cancelled => Err(SessionError::Cancelled),
        };
        done(result);
    }));
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
    /// Whether to enter the library's runtime while polling.
    enter: bool,
}

impl<T, F: Future<Output = Result<T, SessionError>>> Future for InRuntime<F> {
    type Output = Result<T, SessionError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let _entered = if self.enter { enter_own() } else { None };
        match catch_unwind(AssertUnwindSafe(|| self.inner.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => Poll::Ready(Err(panic_error(payload.as_ref()))),
        }
    }
}

/// The error for a panic caught at the edge. The only one an app can cause is tokio's
/// for a runtime without IO or timers (with `use_callers_runtime`): that one says so.
fn panic_error(payload: &(dyn std::any::Any + Send)) -> SessionError {
    let message = payload.downcast_ref::<String>().map(String::as_str).or(payload.downcast_ref::<&str>().copied());
    if message.is_some_and(|m| m.contains("IO is disabled") || m.contains("timers are disabled")) {
        return SessionError::InvalidConfig {
            detail: "use_callers_runtime needs a tokio runtime with IO and timers (Builder::enable_all)".into(),
        };
    }
    SessionError::Internal { detail: "the library panicked".into() }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    fn on_runtime<T: Send + 'static>(fut: impl Future<Output = T> + Send + 'static) -> T {
        RUNTIME.block_on(RUNTIME.spawn(fut)).expect("task panicked")
    }

    #[test]
    fn work_that_may_block_on_the_worker_lets_the_other_tasks_run() {
        let (entered, is_entered) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let blocked = RUNTIME.spawn(async move {
            may_block(|| {
                entered.send(()).unwrap();
                released.recv_timeout(Duration::from_secs(10))
            })
        });
        is_entered.recv_timeout(Duration::from_secs(10)).expect("the blocking work started");

        // The only worker is inside `may_block`; this task runs only if it handed off.
        on_runtime(async move { release.send(()).unwrap() });

        assert_eq!(RUNTIME.block_on(blocked).unwrap(), Ok(()));
    }

    #[test]
    fn blocking_calls_are_refused_in_tasks_and_allowed_in_app_callbacks() {
        let in_task = on_runtime(async { block_on(async { Ok(1) }) });
        assert!(matches!(in_task, Err(SessionError::InvalidRequest { .. })), "{in_task:?}");

        let in_callback =
            on_runtime(async { tokio::task::spawn_blocking(|| app_callback(|| block_on(async { Ok(2) }))).await });
        assert_eq!(in_callback.unwrap(), Ok(2));

        let on_plain_thread = std::thread::spawn(|| block_on(async { Ok(3) })).join().unwrap();
        assert_eq!(on_plain_thread, Ok(3));
    }
}
