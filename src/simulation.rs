//! Seams for the deterministic simulation (tests/sim), behind the non-default
//! `simulation` feature and hidden from the docs. A simulation runs the real engine on a
//! current-thread tokio runtime with a paused clock that it owns: the engine's tasks,
//! its store calls and its listener all run on that one thread, its wall clock is derived
//! from tokio's virtual clock, and its requests go to the simulation's `World` instead of
//! reqwest. Tasks are tagged with the simulated process that started them, so a process
//! can die mid-step. Nothing here is used unless a simulation called `enter`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::task::{AbortHandle, JoinHandle};

use crate::config::{SessionConfig, Settings};
use crate::engine::{Engine, Phase};
use crate::error::{ExpiryReason, SessionError};
use crate::events::{EventSink, SessionListener};
use crate::session::Session;
use crate::store::{StoreHandle, TokenStore};
use crate::wire::{Wire, WireError};

/// The simulation's network and store timing, one per simulated process.
pub trait World: Send + Sync {
    /// Answers one request the engine sends (an API call or the refresh call), in
    /// virtual time; an error is what the engine would see from the network.
    fn exchange(&self, request: reqwest::Request)
        -> Pin<Box<dyn Future<Output = Result<Answer, SessionError>> + Send>>;
    /// How long the next call into the token store takes.
    fn store_call_time(&self) -> Duration;
}

/// An answer from the simulated network.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

thread_local! {
    /// The wall-clock time at the simulation's start, and tokio's (virtual) instant then.
    static CLOCK: Cell<Option<(SystemTime, tokio::time::Instant)>> = const { Cell::new(None) };
    /// The simulated process whose code runs now.
    static PROCESS: Cell<u64> = const { Cell::new(0) };
    /// Every task spawned in the simulation, by process, so a process can die.
    static TASKS: RefCell<Vec<(u64, AbortHandle)>> = const { RefCell::new(Vec::new()) };
}

/// Makes this thread a simulation's: call on the simulation's runtime (paused clock),
/// before building sessions. `wall_clock` is the wall-clock time the world starts at.
pub fn enter(wall_clock: SystemTime) {
    CLOCK.set(Some((wall_clock, tokio::time::Instant::now())));
}

/// Ends the simulation on this thread: aborts what is left of its tasks.
pub fn leave() {
    for (_, task) in TASKS.take() {
        task.abort();
    }
    CLOCK.set(None);
    PROCESS.set(0);
}

pub(crate) fn active() -> bool {
    CLOCK.get().is_some()
}

pub(crate) fn virtual_now() -> Option<SystemTime> {
    CLOCK.get().map(|(wall, start)| wall + start.elapsed())
}

/// Spawns `fut` on the simulation's runtime as a task of `process`.
pub fn spawn_as<F>(process: u64, fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = tokio::spawn(Tagged { process, fut: Box::pin(fut) });
    TASKS.with_borrow_mut(|tasks| {
        if tasks.len() > 256 {
            tasks.retain(|(_, t)| !t.is_finished());
        }
        tasks.push((process, handle.abort_handle()));
    });
    handle
}

/// The engine's `spawn_detached` in a simulation: a task of the current process.
pub(crate) fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_as(PROCESS.get(), fut)
}

/// Kills `process`: every task it started stops where it is (its held refresh lock is
/// released as it is dropped, as the OS releases a dead process's file lock).
pub fn kill(process: u64) {
    let doomed: Vec<AbortHandle> = TASKS.with_borrow_mut(|tasks| {
        let (doomed, kept) = std::mem::take(tasks).into_iter().partition(|(p, _)| *p == process);
        *tasks = kept;
        doomed.into_iter().map(|(_, t)| t).collect()
    });
    for task in doomed {
        task.abort();
    }
}

/// A task that runs as `process`: what it spawns belongs to that process too.
struct Tagged<F> {
    process: u64,
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for Tagged<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let outer = PROCESS.replace(self.process);
        let poll = self.fut.as_mut().poll(cx);
        PROCESS.set(outer);
        poll
    }
}

/// A session of `process` whose requests go to `world` and whose store calls take the
/// time `world` says.
pub fn session(
    process: u64,
    config: SessionConfig,
    store: Arc<dyn TokenStore>,
    listener: Option<Arc<dyn SessionListener>>,
    world: Arc<dyn World>,
) -> Result<Arc<Session>, SessionError> {
    let outer = PROCESS.replace(process);
    let built = (|| {
        let settings = Settings::from_config(config)?;
        let wire = Wire::simulated(Arc::clone(&world), &settings)?;
        let store = StoreHandle::simulated(store, settings.store_timeout, world);
        let engine = Arc::new(Engine::new(settings, wire, store, EventSink::new(listener), None));
        engine.start_loading();
        Ok(Session::from_engine(engine))
    })();
    PROCESS.set(outer);
    built
}

/// The wire's `send` in a simulation: the built request goes to the world, bounded by
/// its timeout as reqwest bounds it, and the body limit applies as `read_capped` applies it.
pub(crate) async fn exchange(
    world: &dyn World,
    request: reqwest::RequestBuilder,
    limit: u64,
) -> Result<(u16, HeaderMap, Bytes), WireError> {
    let request = request.build().map_err(|e| WireError::Failed(SessionError::from_transport(&e)))?;
    let bound = request.timeout().copied();
    let answer = world.exchange(request);
    let answer = match bound {
        Some(bound) => tokio::time::timeout(bound, answer).await.unwrap_or(Err(SessionError::Timeout)),
        None => answer.await,
    }
    .map_err(WireError::Failed)?;
    if answer.body.len() as u64 > limit {
        return Err(WireError::TooLarge);
    }
    Ok((answer.status, answer.headers, answer.body))
}

/// What the engine holds now, for the simulation's invariants.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The current access token, when active.
    pub access_token: Option<String>,
    /// Its generation.
    pub generation: u64,
    /// The sign-in epoch.
    pub epoch: u64,
    /// The current tokens' save failed and the engine knows it.
    pub unsaved: bool,
    /// Why the session expired, when it did.
    pub expired: Option<ExpiryReason>,
    /// A refresh is in flight.
    pub refreshing: bool,
}

/// Reads the engine's state.
pub fn probe(session: &Session) -> Probe {
    let st = session.engine().lock();
    let (access_token, generation) = match &st.phase {
        Phase::Active(ts) => (Some(ts.tokens.access_token.clone()), ts.generation),
        _ => (None, 0),
    };
    Probe {
        access_token,
        generation,
        epoch: st.epoch,
        unsaved: st.unsaved,
        expired: match st.phase {
            Phase::Expired(reason) => Some(reason),
            _ => None,
        },
        refreshing: st.is_refreshing(),
    }
}
