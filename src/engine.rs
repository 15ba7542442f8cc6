//! The refresh coordinator. At most one refresh is in flight per session; every caller
//! that needs a fresh token waits on it, bounded in time, and shares its result.
//! The refresh runs as its own task, so cancelling the caller that started it does not
//! lose tokens the server has already rotated. No lock is held across an `await` or
//! while the app's store or listener runs.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use tokio::sync::{watch, Semaphore};

use crate::config::Settings;
use crate::error::{ExpiryReason, SessionError};
use crate::events::{EventSink, SessionEvent};
use crate::protocol::{self, RefreshFailure};
use crate::store::StoreHandle;
use crate::tokens::{TokenSet, Tokens};

pub(crate) type RefreshResult = Result<Arc<TokenSet>, SessionError>;

pub(crate) enum Phase {
    /// The store could not be read yet (a locked Keychain); the next call tries again.
    Unloaded,
    SignedOut,
    Active(Arc<TokenSet>),
    Expired(ExpiryReason),
}

struct InFlight {
    id: u64,
    result: watch::Receiver<Option<RefreshResult>>,
}

pub(crate) struct State {
    pub phase: Phase,
    /// Bumped by sign-in and sign-out; a refresh from an older epoch is thrown away.
    epoch: u64,
    last_generation: u64,
    last_flight: u64,
    in_flight: Option<InFlight>,
}

impl State {
    pub fn is_refreshing(&self) -> bool {
        self.in_flight.is_some()
    }

    fn end_flight(&mut self, id: u64) {
        if self.in_flight.as_ref().is_some_and(|f| f.id == id) {
            self.in_flight = None;
        }
    }

    fn next_tokens(&mut self, tokens: Tokens) -> Arc<TokenSet> {
        self.last_generation += 1;
        Arc::new(TokenSet::new(tokens, self.last_generation))
    }

    /// The error for a caller that found no active session.
    fn changed_error_or_state(&self) -> SessionError {
        match self.phase {
            Phase::Unloaded => SessionError::Store { detail: "the token store is not readable".into() },
            _ => self.changed_error(),
        }
    }

    /// The error for a caller whose session changed under it.
    fn changed_error(&self) -> SessionError {
        match self.phase {
            Phase::SignedOut => SessionError::NotSignedIn,
            Phase::Expired(reason) => SessionError::SessionExpired { reason },
            _ => SessionError::Cancelled,
        }
    }
}

/// What a caller needs from the engine.
#[derive(Clone, Copy)]
pub(crate) enum Need {
    /// A token that is not about to expire.
    Current,
    /// A token newer than this generation, which the server rejected.
    Replacing(u64),
}

#[derive(Default)]
pub(crate) struct Metrics {
    pub requests: AtomicU64,
    pub refreshes: AtomicU64,
    pub refresh_failures: AtomicU64,
    pub replays: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

pub(crate) struct Engine {
    pub settings: Settings,
    pub client: reqwest::Client,
    pub metrics: Metrics,
    pub permits: Semaphore,
    store: StoreHandle,
    events: EventSink,
    state: Mutex<State>,
    /// Orders the session's writes to the store, so a refresh that lands after a
    /// sign-out can never write its tokens back.
    writes: tokio::sync::Mutex<()>,
    /// Times of recent successful refreshes, for the excessive-refresh guard.
    recent_refreshes: Mutex<VecDeque<Instant>>,
}

enum Step {
    Ready(Arc<TokenSet>),
    Wait(watch::Receiver<Option<RefreshResult>>),
    Expire(u64, ExpiryReason),
}

impl Engine {
    pub fn new(settings: Settings, client: reqwest::Client, store: StoreHandle, events: EventSink) -> Engine {
        let mut state = State { phase: Phase::Unloaded, epoch: 0, last_generation: 0, last_flight: 0, in_flight: None };
        match store.load_now() {
            Ok(loaded) => state.phase = phase_for(&mut state, loaded),
            Err(e) => log::warn!(target: "refreshkit", "token store not readable yet: {e}"),
        }
        Engine {
            permits: Semaphore::new(settings.max_concurrent_requests),
            settings,
            client,
            metrics: Metrics::default(),
            store,
            events,
            state: Mutex::new(state),
            writes: tokio::sync::Mutex::new(()),
            recent_refreshes: Mutex::new(VecDeque::new()),
        }
    }

    /// The state, poison-tolerant: a panic elsewhere must not take the session down.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `token_for(Need::Current)` would hand out the token of `generation` at
    /// once, without refreshing or waiting.
    pub fn is_current(&self, generation: u64) -> bool {
        let st = self.lock();
        match &st.phase {
            // As in `token_for`: without a refresh token, an expiring token is still sent.
            Phase::Active(ts) => {
                ts.generation == generation
                    && st.in_flight.is_none()
                    && (ts.tokens.refresh_token.is_none()
                        || !ts.expires_within(SystemTime::now(), self.settings.leeway))
            }
            _ => false,
        }
    }

    pub async fn sign_in(&self, tokens: Tokens) -> Result<(), SessionError> {
        if tokens.access_token.is_empty() {
            return Err(SessionError::InvalidRequest { detail: "the access token is empty".into() });
        }
        self.settings.authorization(&tokens.access_token)?;
        let _writes = self.writes.lock().await;
        self.store.save(tokens.clone()).await?;
        {
            let mut st = self.lock();
            st.epoch += 1;
            st.in_flight = None;
            st.phase = Phase::Active(st.next_tokens(tokens));
        }
        self.events.emit(SessionEvent::SignedIn);
        Ok(())
    }

    pub async fn sign_out(&self) -> Result<(), SessionError> {
        let _writes = self.writes.lock().await;
        {
            let mut st = self.lock();
            st.epoch += 1;
            st.in_flight = None;
            st.phase = Phase::SignedOut;
        }
        let cleared = self.store.clear().await;
        self.events.emit(SessionEvent::SignedOut);
        cleared
    }

    /// A token that satisfies `need`, refreshing (once, shared) when required.
    pub async fn token_for(self: &Arc<Self>, need: Need) -> RefreshResult {
        self.ensure_loaded().await?;
        let step = {
            let mut st = self.lock();
            let current = match &st.phase {
                Phase::Active(ts) => Arc::clone(ts),
                _ => return Err(st.changed_error_or_state()),
            };
            if let Some(flight) = &st.in_flight {
                Step::Wait(flight.result.clone())
            } else {
                let stale = match need {
                    Need::Current => current.expires_within(SystemTime::now(), self.settings.leeway),
                    Need::Replacing(generation) => current.generation == generation,
                };
                match (stale, current.tokens.refresh_token.is_some(), need) {
                    (false, _, _) => Step::Ready(current),
                    // Without a refresh token, a token near expiry is still worth a try...
                    (true, false, Need::Current) => Step::Ready(current),
                    // ...but a rejected one ends the session.
                    (true, false, Need::Replacing(_)) => Step::Expire(st.epoch, ExpiryReason::NoRefreshToken),
                    (true, true, need) => Step::Wait(self.start_refresh(&mut st, current, need)),
                }
            }
        };
        match step {
            Step::Ready(ts) => Ok(ts),
            Step::Wait(result) => self.await_refresh(result).await,
            Step::Expire(epoch, reason) => self.expire(None, epoch, reason).await,
        }
    }

    /// The newest token without ever starting a refresh: `token` itself, a newer one if
    /// it was replaced, or the result of a refresh in flight.
    pub async fn latest(&self, token: Arc<TokenSet>) -> RefreshResult {
        let in_flight = {
            let st = self.lock();
            match (&st.phase, &st.in_flight) {
                (Phase::Active(_), Some(flight)) => flight.result.clone(),
                (Phase::Active(current), None) if current.generation > token.generation => {
                    return Ok(Arc::clone(current))
                }
                (Phase::Active(_), None) => return Ok(token),
                _ => return Err(st.changed_error_or_state()),
            }
        };
        self.await_refresh(in_flight).await
    }

    pub async fn ensure_loaded(&self) -> Result<(), SessionError> {
        let epoch = {
            let st = self.lock();
            if !matches!(st.phase, Phase::Unloaded) {
                return Ok(());
            }
            st.epoch
        };
        let loaded = self.store.load().await?;
        let mut st = self.lock();
        if matches!(st.phase, Phase::Unloaded) && st.epoch == epoch {
            st.phase = phase_for(&mut st, loaded);
        }
        Ok(())
    }

    fn start_refresh(
        self: &Arc<Self>,
        st: &mut State,
        from: Arc<TokenSet>,
        need: Need,
    ) -> watch::Receiver<Option<RefreshResult>> {
        let (tx, rx) = watch::channel(None);
        st.last_flight += 1;
        let (id, epoch) = (st.last_flight, st.epoch);
        st.in_flight = Some(InFlight { id, result: rx.clone() });
        log::debug!(target: "refreshkit", "refresh {id} starts from generation {}", from.generation);
        let engine = Arc::clone(self);
        crate::runtime::spawn_detached(async move {
            let _ends_flight = FlightGuard { engine: Arc::clone(&engine), id };
            // The guard counts refreshes that can loop: after the server rejected a token,
            // or for tokens that arrived already expired. Refreshing a token near its end
            // of life is paced by its lifetime and never counts, so 2 s tokens work.
            let counted = matches!(need, Need::Replacing(_)) || from.born_expired();
            let result = engine.run_refresh(id, epoch, from, counted).await;
            let _ = tx.send(Some(result));
        });
        rx
    }

    async fn await_refresh(&self, mut result: watch::Receiver<Option<RefreshResult>>) -> RefreshResult {
        let bound = self.settings.refresh_wait_bound();
        match tokio::time::timeout(bound, result.wait_for(Option::is_some)).await {
            Ok(Ok(done)) => done.clone().unwrap_or(Err(SessionError::Cancelled)),
            Ok(Err(_)) => Err(SessionError::Internal { detail: "the refresh ended without a result".into() }),
            Err(_) => Err(SessionError::Timeout),
        }
    }

    async fn run_refresh(&self, id: u64, epoch: u64, from: Arc<TokenSet>, counted: bool) -> RefreshResult {
        // Another process or Session sharing the store may have rotated the tokens:
        // adopt theirs rather than spend a refresh token that is already used.
        let mut basis = from.tokens.clone();
        match self.store.load().await {
            Err(e) => return self.fail(id, epoch, e),
            Ok(None) => return self.expire(Some(id), epoch, ExpiryReason::RemovedFromStore).await,
            Ok(Some(stored)) if stored.access_token != from.tokens.access_token => {
                let fresh = !TokenSet::new(stored.clone(), 0).expires_within(SystemTime::now(), self.settings.leeway);
                if fresh || stored.refresh_token.is_none() {
                    log::debug!(target: "refreshkit", "refresh {id}: adopted newer tokens from the store");
                    return self.activate(id, epoch, stored);
                }
                basis = stored;
            }
            Ok(Some(_)) => {}
        }
        let Some(refresh_token) = basis.refresh_token.clone() else {
            return self.expire(Some(id), epoch, ExpiryReason::NoRefreshToken).await;
        };
        if counted && !self.guard_allows() {
            log::warn!(target: "refreshkit", "refresh {id}: refused by the excessive-refresh guard");
            return self.fail(id, epoch, SessionError::TooManyRefreshes);
        }
        match protocol::refresh(&self.client, &self.settings, &refresh_token).await {
            Ok(mut fresh) => {
                if fresh.refresh_token.is_none() {
                    fresh.refresh_token = Some(refresh_token);
                }
                if counted {
                    self.record_refresh();
                }
                self.persist_and_activate(id, epoch, fresh).await
            }
            Err(RefreshFailure::Rejected { detail }) => {
                log::info!(target: "refreshkit", "refresh {id}: rejected by the server ({detail})");
                // The rejection may mean another process rotated while we asked.
                if let Ok(Some(stored)) = self.store.load().await {
                    if stored.access_token != basis.access_token {
                        return self.activate(id, epoch, stored);
                    }
                }
                self.expire(Some(id), epoch, ExpiryReason::RefreshRejected).await
            }
            Err(RefreshFailure::Transient(e)) => self.fail(id, epoch, e),
        }
    }

    /// Saves new tokens before any waiter sees them, unless the session changed.
    async fn persist_and_activate(&self, id: u64, epoch: u64, tokens: Tokens) -> RefreshResult {
        let _writes = self.writes.lock().await;
        if self.lock().epoch != epoch {
            log::debug!(target: "refreshkit", "refresh {id}: the session changed, result thrown away");
            return Err(self.lock().changed_error());
        }
        bump(&self.metrics.refreshes);
        let saved = self.store.save(tokens.clone()).await;
        let result = self.activate(id, epoch, tokens);
        if let Err(e) = saved {
            // The server has rotated: the new tokens are the only valid ones, so use them.
            log::warn!(target: "refreshkit", "refresh {id}: new tokens could not be saved: {e}");
            self.events.emit(SessionEvent::StoreFailed { detail: e.to_string() });
        }
        result
    }

    fn activate(&self, id: u64, epoch: u64, tokens: Tokens) -> RefreshResult {
        let ts = {
            let mut st = self.lock();
            st.end_flight(id);
            if st.epoch != epoch {
                return Err(st.changed_error());
            }
            let ts = st.next_tokens(tokens);
            st.phase = Phase::Active(Arc::clone(&ts));
            ts
        };
        log::debug!(target: "refreshkit", "refresh {id}: generation {} active", ts.generation);
        self.events.emit(SessionEvent::Refreshed);
        Ok(ts)
    }

    fn fail(&self, id: u64, epoch: u64, error: SessionError) -> RefreshResult {
        let current = {
            let mut st = self.lock();
            st.end_flight(id);
            st.epoch == epoch
        };
        if current {
            bump(&self.metrics.refresh_failures);
            log::info!(target: "refreshkit", "refresh {id} failed: {error}");
            self.events
                .emit(SessionEvent::RefreshFailed { retryable: error.is_retryable(), detail: error.to_string() });
        }
        Err(error)
    }

    /// Ends the session: clears the store and fails every waiter with "session expired".
    async fn expire(&self, id: Option<u64>, epoch: u64, reason: ExpiryReason) -> RefreshResult {
        // Sign-in and sign-out also hold `writes`, so the epoch cannot move until it drops.
        let _writes = self.writes.lock().await;
        if self.lock().epoch == epoch {
            if let Err(e) = self.store.clear().await {
                log::warn!(target: "refreshkit", "expired tokens could not be cleared: {e}");
            }
        }
        {
            let mut st = self.lock();
            if let Some(id) = id {
                st.end_flight(id);
            }
            if st.epoch != epoch {
                return Err(st.changed_error());
            }
            st.phase = Phase::Expired(reason);
        }
        bump(&self.metrics.refresh_failures);
        log::info!(target: "refreshkit", "session expired: {reason}");
        let error = SessionError::SessionExpired { reason };
        self.events.emit(SessionEvent::RefreshFailed { retryable: false, detail: error.to_string() });
        self.events.emit(SessionEvent::Expired { reason });
        Err(error)
    }

    /// Network failures do not count: only refreshes that succeeded, as a loop guard.
    fn guard_allows(&self) -> bool {
        let mut recent = self.recent_refreshes.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        while recent.front().is_some_and(|t| now.duration_since(*t) > self.settings.refresh_window) {
            recent.pop_front();
        }
        recent.len() < self.settings.max_refreshes as usize
    }

    fn record_refresh(&self) {
        self.recent_refreshes.lock().unwrap_or_else(|p| p.into_inner()).push_back(Instant::now());
    }
}

fn phase_for(st: &mut State, loaded: Option<Tokens>) -> Phase {
    match loaded {
        Some(tokens) => Phase::Active(st.next_tokens(tokens)),
        None => Phase::SignedOut,
    }
}

/// Clears the in-flight marker when the refresh task ends in any way, a panic
/// included, so no flag is ever left stuck.
struct FlightGuard {
    engine: Arc<Engine>,
    id: u64,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        self.engine.lock().end_flight(self.id);
    }
}
