//! The engine: the refresh coordinator and the session's state. At most one refresh is
//! in flight per session; every caller that needs a fresh token waits on it, bounded in
//! time, and shares its result. The refresh runs as its own task, so cancelling the
//! caller that started it does not lose tokens the server has already rotated. No lock
//! is held across an `await` or while the app's store or listener runs.
//!
//! `impl Engine` is split by concern: the state and the one freshness decision here;
//! the refresh and the expiry in refresh.rs (the call itself in protocol.rs); sending
//! and replaying in execute.rs; the store's first read, sign-in, sign-out and re-saves
//! in lifecycle.rs (the revocation after a sign-out in revocation.rs); the layers'
//! headers in layer_headers.rs.

pub(crate) mod events;
pub(crate) mod execute;
pub(crate) mod guard;
pub(crate) mod layer_headers;
pub(crate) mod lease;
pub(crate) mod lifecycle;
pub(crate) mod protocol;
pub(crate) mod refresh;
pub(crate) mod request;
pub(crate) mod revocation;
pub(crate) mod settings;
pub(crate) mod token_set;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{watch, Semaphore};

use crate::engine::events::EventSink;
use crate::engine::guard::Guard;
use crate::engine::settings::Settings;
use crate::engine::token_set::TokenSet;
use crate::foundation::clock::Instant;
use crate::net::wire::Wire;
use crate::store::shared_lock::Held;
use crate::store::StoreHandle;
use crate::types::error::{ExpiryReason, SessionError};
use crate::types::state::SessionState;
use crate::types::tokens::Tokens;

/// The store read under way: `None` until it ends, then its result.
pub type Loading = watch::Receiver<Option<Result<(), SessionError>>>;

pub(crate) type RefreshResult = Result<Arc<TokenSet>, SessionError>;

/// How many of an epoch's recent token sets the engine remembers (see `State::held`).
const HELD: usize = 16;

pub(crate) enum Phase {
    /// The store has not been read yet (just built, or a locked Keychain); the next
    /// call reads it.
    Unloaded,
    SignedOut,
    Active(Arc<TokenSet>),
    Expired(ExpiryReason),
}

pub(crate) struct InFlight {
    pub id: u64,
    pub result: watch::Receiver<Option<RefreshResult>>,
    /// Lets a sign-out (or another sign-in) answer the waiters at once.
    pub wake: watch::Sender<Option<RefreshResult>>,
}

pub(crate) struct State {
    pub phase: Phase,
    /// Bumped by sign-in and sign-out; a refresh from an older epoch is thrown away, and
    /// a request never carries a token of another epoch.
    pub epoch: u64,
    last_generation: u64,
    pub last_flight: u64,
    pub in_flight: Option<InFlight>,
    /// A store read in flight, shared by everyone who needs it.
    pub loading: Option<Loading>,
    /// This epoch's recent tokens, newest last. The store can only hold these, what the
    /// store handle knows it holds as this session's own (`StoreHandle::holds_own`, older
    /// than the window after many failed saves), or tokens another process wrote; a
    /// re-read adopts only the latter, so a store left behind never looks "newer".
    held: VecDeque<Arc<TokenSet>>,
    /// The current tokens may not be in the store: their save failed or timed out.
    pub unsaved: bool,
    /// The store's cross-process lock, kept while the store may still hold the refresh
    /// token this session spent (its rotated tokens' save failed): another process that
    /// read it now would spend it again, and the server would sign the user out. Those
    /// processes wait for the lock (bounded) and fail retryably instead, until the
    /// re-save lands or this session signs in, out or expires.
    kept_lock: Held,
    pub last_resave: Option<Instant>,
    pub guard: Guard,
    /// The epoch as the store line checks it (`Write::in_epoch`).
    store_epoch: Arc<AtomicU64>,
}

impl State {
    pub fn is_refreshing(&self) -> bool {
        self.in_flight.is_some()
    }

    pub fn end_flight(&mut self, id: u64) {
        if self.in_flight.as_ref().is_some_and(|f| f.id == id) {
            self.in_flight = None;
        }
    }

    /// Makes `tokens` the session's current tokens.
    pub fn adopt(&mut self, tokens: Tokens, from_refresh: bool) -> Arc<TokenSet> {
        self.last_generation += 1;
        let ts = Arc::new(TokenSet::new(tokens, self.last_generation, self.epoch, from_refresh));
        if self.held.len() == HELD {
            self.held.pop_front();
        }
        self.held.push_back(Arc::clone(&ts));
        self.phase = Phase::Active(Arc::clone(&ts));
        ts
    }

    /// Starts a new epoch (sign-in, sign-out): nothing of the old one carries over, and
    /// whoever waits on its refresh hears `why` now, not when the refresh ends.
    pub fn new_epoch(&mut self, phase: Phase, why: SessionError) {
        self.epoch += 1;
        self.store_epoch.store(self.epoch, Ordering::SeqCst);
        if let Some(flight) = self.in_flight.take() {
            flight.wake.send_replace(Some(Err(why)));
        }
        self.held.clear();
        self.saved();
        self.guard = Guard::default();
        self.phase = phase;
    }

    /// The current tokens' save failed: the store's lock is kept (if it has one) until
    /// they are saved. True when a lock is kept.
    pub fn unsaved_under(&mut self, lock: Held) -> bool {
        self.unsaved = true;
        self.kept_lock = lock;
        self.kept_lock.is_held()
    }

    /// The store no longer holds a refresh token this session spent: the current tokens
    /// are saved, or the store holds another process's tokens, or nothing.
    pub fn saved(&mut self) {
        self.unsaved = false;
        self.kept_lock = Held::none();
    }

    /// Whether this session held `tokens` in this epoch (so they are not news).
    pub fn held(&self, tokens: &Tokens) -> bool {
        self.held_token(&tokens.access_token).is_some()
    }

    /// This epoch's token set whose access token is `access_token`, if any.
    pub fn held_token(&self, access_token: &str) -> Option<&Arc<TokenSet>> {
        self.held.iter().rev().find(|ts| ts.tokens.access_token == access_token)
    }

    /// The generation of `access_token` if it is one of this epoch's tokens.
    pub fn generation_of(&self, access_token: &str) -> Option<u64> {
        self.held_token(access_token).map(|ts| ts.generation)
    }

    /// The error for a caller that found no active session.
    pub fn changed_error_or_state(&self) -> SessionError {
        match self.phase {
            Phase::Unloaded => SessionError::Store { detail: "the token store is not readable".into() },
            _ => self.changed_error(),
        }
    }

    /// The error for a caller whose session changed under it.
    pub fn changed_error(&self) -> SessionError {
        match self.phase {
            Phase::SignedOut => SessionError::NotSignedIn,
            Phase::Expired(reason) => SessionError::SessionExpired { reason },
            _ => SessionError::SessionChanged,
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
    pub discarded: AtomicU64,
    /// Callers waiting for a refresh right now.
    pub waiting: AtomicU64,
    /// Requests waiting for a place on the wire right now.
    pub queued: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Counts its caller in a gauge for as long as it lives (a cancelled wait included).
pub(crate) struct Counted<'a>(&'a AtomicU64);

impl<'a> Counted<'a> {
    pub fn new(gauge: &'a AtomicU64) -> Self {
        bump(gauge);
        Counted(gauge)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) struct Engine {
    pub settings: Settings,
    pub wire: Wire,
    pub metrics: Metrics,
    pub permits: Semaphore,
    pub store: StoreHandle,
    pub events: EventSink,
    /// The app's DPoP key and the servers' nonces, when tokens are bound to a key.
    pub dpop: Option<crate::dpop::state::Dpop>,
    state: Mutex<State>,
    /// Orders the session's decisions about the store (save, clear) with the state they
    /// belong to, so a refresh that lands after a sign-out can never write its tokens back.
    pub writes: tokio::sync::Mutex<()>,
}

enum Step {
    Ready(Arc<TokenSet>),
    Wait(watch::Receiver<Option<RefreshResult>>),
    Expire(u64, ExpiryReason),
    /// A refresh is needed and none is under way.
    Due(Arc<TokenSet>),
}

impl Engine {
    pub fn new(
        settings: Settings,
        wire: Wire,
        store: StoreHandle,
        events: EventSink,
        dpop: Option<crate::dpop::state::Dpop>,
    ) -> Engine {
        let state = State {
            phase: Phase::Unloaded,
            epoch: 0,
            last_generation: 0,
            last_flight: 0,
            in_flight: None,
            loading: None,
            held: VecDeque::new(),
            unsaved: false,
            kept_lock: Held::none(),
            last_resave: None,
            guard: Guard::default(),
            store_epoch: Arc::clone(&store.epoch),
        };
        Engine {
            permits: Semaphore::new(settings.max_concurrent_requests),
            settings,
            wire,
            metrics: Metrics::default(),
            store,
            events,
            dpop,
            state: Mutex::new(state),
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// The state, poison-tolerant: a panic elsewhere must not take the session down.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The one freshness rule: whether `current` must be refreshed before it is sent.
    fn is_stale(&self, current: &TokenSet, need: Need) -> bool {
        match need {
            Need::Current => current.expires_within(crate::foundation::clock::now(), self.settings.leeway),
            Need::Replacing(generation) => current.generation == generation,
        }
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
                    && (ts.tokens.refresh_token.is_none() || !self.is_stale(ts, Need::Current))
            }
            _ => false,
        }
    }

    /// A token that satisfies `need`, refreshing (once, shared) when required.
    pub async fn token_for(self: &Arc<Self>, need: Need) -> RefreshResult {
        self.ensure_loaded().await?;
        let step = {
            let mut st = self.lock();
            match self.step(&mut st, need)? {
                Step::Due(current) => Step::Wait(self.start_refresh(&mut st, current, need)),
                Step::Expire(epoch, reason) => Step::Wait(self.start_expiry(&mut st, epoch, reason)),
                step => step,
            }
        };
        match step {
            Step::Ready(ts) => Ok(ts),
            Step::Wait(result) => self.await_refresh(result).await,
            // Never: a due refresh or expiry became `Wait` under the lock above.
            Step::Due(_) | Step::Expire(..) => {
                Err(SessionError::Internal { detail: "a due refresh was not started".into() })
            }
        }
    }

    /// `token_for` without waiting: the token if it can be had at once, or the error
    /// that ends the call; `None` when the caller would have to wait (for the store's
    /// first read, or for a refresh under way or due) or the session ends.
    pub fn token_at_once(self: &Arc<Self>, need: Need) -> Option<RefreshResult> {
        let mut st = self.lock();
        if matches!(st.phase, Phase::Unloaded) {
            return None;
        }
        match self.step(&mut st, need) {
            Ok(Step::Ready(ts)) => Some(Ok(ts)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// What a caller that needs `need` does next (the one place that decides it).
    fn step(self: &Arc<Self>, st: &mut State, need: Need) -> Result<Step, SessionError> {
        let current = match &st.phase {
            Phase::Active(ts) => Arc::clone(ts),
            _ => return Err(st.changed_error_or_state()),
        };
        if let Some(flight) = &st.in_flight {
            return Ok(Step::Wait(flight.result.clone()));
        }
        Ok(match (self.is_stale(&current, need), current.tokens.refresh_token.is_some(), need) {
            (false, _, _) => {
                self.resave_if_behind(st);
                Step::Ready(current)
            }
            // Without a refresh token, a token near expiry is still worth a try...
            (true, false, Need::Current) => Step::Ready(current),
            // ...but a rejected one ends the session.
            (true, false, Need::Replacing(_)) => Step::Expire(st.epoch, ExpiryReason::NoRefreshToken),
            (true, true, _) => Step::Due(current),
        })
    }

    /// Ends the session of `epoch` from outside a refresh (its DPoP key is gone), once for
    /// every caller that finds it over: they all wait for the one expiry.
    pub(crate) async fn expire_once(self: &Arc<Self>, epoch: u64, reason: ExpiryReason) -> RefreshResult {
        let result = {
            let mut st = self.lock();
            if st.epoch != epoch || !matches!(st.phase, Phase::Active(_)) {
                return Err(st.changed_error_or_state());
            }
            match &st.in_flight {
                Some(flight) => flight.result.clone(),
                None => self.start_expiry(&mut st, epoch, reason),
            }
        };
        self.await_refresh(result).await
    }

    /// Where the session stands, as the app sees it.
    pub fn session_state(&self) -> SessionState {
        let st = self.lock();
        match st.phase {
            Phase::Unloaded if st.loading.is_some() => SessionState::Loading,
            Phase::Unloaded => SessionState::Locked,
            Phase::SignedOut => SessionState::SignedOut,
            Phase::Expired(_) => SessionState::Expired,
            Phase::Active(_) if st.is_refreshing() => SessionState::Refreshing,
            Phase::Active(_) => SessionState::Active,
        }
    }

    /// What a caller needs after the server rejected `rejected_access_token`: a token
    /// newer than it, or the current one when it was already replaced. Only a token of
    /// this sign-in is answered: after a sign-out and another user's sign-in, a late 401
    /// for the first user's token gets no token at all.
    pub fn need_after_rejection(&self, rejected_access_token: &str) -> Result<Need, SessionError> {
        let st = self.lock();
        match &st.phase {
            Phase::Active(ts) if ts.tokens.access_token == rejected_access_token => Ok(Need::Replacing(ts.generation)),
            Phase::Active(_) if st.generation_of(rejected_access_token).is_some() => Ok(Need::Current),
            Phase::Active(_) => Err(SessionError::SessionChanged),
            _ => Err(st.changed_error_or_state()),
        }
    }

    /// Notes that the token of `generation` got an answer that does not mean "expired".
    pub fn served(&self, generation: u64) {
        self.lock().guard.served(generation);
    }

    async fn await_refresh(&self, mut result: watch::Receiver<Option<RefreshResult>>) -> RefreshResult {
        let _waiting = Counted::new(&self.metrics.waiting);
        let bound = self.settings.refresh_wait_bound();
        match tokio::time::timeout(bound, result.wait_for(Option::is_some)).await {
            Ok(Ok(done)) => done.clone().unwrap_or(Err(SessionError::Cancelled)),
            Ok(Err(_)) => Err(SessionError::Internal { detail: "the refresh ended without a result".into() }),
            Err(_) => Err(SessionError::Timeout),
        }
    }
}
