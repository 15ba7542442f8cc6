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
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::task::{AbortHandle, JoinHandle};

use crate::api::config::SessionConfig;
use crate::api::session::Session;
use crate::engine::events::{EventSink, SessionListener};
use crate::engine::{Engine, Phase};
use crate::foundation::harness::{self, Harness};
use crate::net::wire::{Exchange, Received, Receiving, Wire, WireError};
use crate::store::{StoreHandle, TokenStore};
use crate::types::error::{ExpiryReason, SessionError};

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
    /// The simulated process whose code runs now.
    static PROCESS: Cell<u64> = const { Cell::new(0) };
    /// Every task spawned in the simulation, by process, so a process can die.
    static TASKS: RefCell<Vec<(u64, AbortHandle)>> = const { RefCell::new(Vec::new()) };
}

/// Makes this thread a simulation's: call on the simulation's runtime (paused clock),
/// before building sessions. `wall_clock` is the wall-clock time the world starts at.
pub fn enter(wall_clock: SystemTime) {
    harness::install(Rc::new(Simulated { wall_clock, start: tokio::time::Instant::now() }));
}

/// The library's clock and spawning in a simulation (installed by `enter`).
struct Simulated {
    /// The wall-clock time at the simulation's start, and tokio's (virtual) instant then.
    wall_clock: SystemTime,
    start: tokio::time::Instant,
}

impl Harness for Simulated {
    /// The wall-clock time, derived from tokio's paused clock.
    fn now(&self) -> SystemTime {
        self.wall_clock + self.start.elapsed()
    }

    /// A task of the process whose code runs now.
    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()> + Send>>) {
        drop(spawn_as(PROCESS.get(), task));
    }
}

/// Ends the simulation on this thread: aborts what is left of its tasks.
pub fn leave() {
    for (_, task) in TASKS.take() {
        task.abort();
    }
    harness::remove();
    PROCESS.set(0);
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
        let settings = config.into_settings()?;
        let wire = Wire::simulated(Arc::new(WorldWire(Arc::clone(&world))), settings.request_timeout)?;
        let store = StoreHandle::simulated(store, settings.store_timeout, Arc::new(move || world.store_call_time()));
        let engine = Arc::new(Engine::new(settings, wire, store, EventSink::new(listener), None));
        engine.start_loading();
        Ok(Session::from_engine(engine))
    })();
    PROCESS.set(outer);
    built
}

/// The wire of a simulated session: its requests go to the world.
struct WorldWire(Arc<dyn World>);

impl Exchange for WorldWire {
    fn exchange(&self, request: reqwest::RequestBuilder, limit: u64) -> Receiving<'_> {
        Box::pin(exchange(self.0.as_ref(), request, limit))
    }
}

/// The wire's `send` in a simulation: the built request goes to the world, bounded by
/// its timeout as reqwest bounds it, and the body limit applies as the wire applies it.
async fn exchange(world: &dyn World, request: reqwest::RequestBuilder, limit: u64) -> Result<Received, WireError> {
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
