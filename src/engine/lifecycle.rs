//! The session's life around its tokens: the first read of the store, sign-in,
//! sign-out, and saving again tokens whose save failed. A change is made only once the
//! store has it; a store write that lands after its caller gave up still makes its
//! change then (with its event), so the session always follows the store.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::dpop::state::{is_dpop_token_type, no_key_for_bound_tokens};
use crate::engine::events::SessionEvent;
use crate::engine::{Engine, Loading, Phase, State};
use crate::foundation::clock::Instant;
use crate::store::shared_lock::Held;
use crate::store::Write;
use crate::types::error::SessionError;
use crate::types::tokens::{check_usable, Tokens};

/// How often a session whose tokens are not in the store tries to save them again.
const RESAVE_INTERVAL: Duration = Duration::from_secs(2);

/// The longest pause between two re-saves while the app makes no call (a store that
/// stays unwritable for hours: a phone locked all night).
const MAX_RESAVE_PAUSE: Duration = Duration::from_secs(60);

impl Engine {
    /// Signs in once the store holds `tokens`. A save still running when the store
    /// timeout passes signs in when it lands (with a `SignedIn` event), though the call
    /// already failed: the session never disagrees with the store about who is signed in.
    pub async fn sign_in(self: &Arc<Self>, tokens: Tokens) -> Result<(), SessionError> {
        check_usable(&tokens).map_err(|detail| SessionError::InvalidRequest { detail: detail.into() })?;
        // Without the key, bound tokens serve nothing, and their first refresh (no proof)
        // is refused with `invalid_grant`, ending the session: refuse them before the store.
        if is_dpop_token_type(tokens.token_type.as_deref()) && self.dpop.is_none() {
            return Err(no_key_for_bound_tokens());
        }
        self.settings.authorization(&tokens.access_token).map_err(|_| SessionError::InvalidRequest {
            detail: "the access token cannot be sent in a header".into(),
        })?;
        let lock = self.lock_for_decision().await?;
        let _writes = self.store_decisions_in_time().await?;
        let engine = Arc::clone(self);
        let saved = tokens.clone();
        let commit = move || {
            {
                let mut st = engine.lock();
                st.new_epoch(Phase::SignedOut, SessionError::SessionChanged);
                st.adopt(saved, false);
            }
            engine.events.emit(SessionEvent::SignedIn);
        };
        self.store.save(tokens, Write { lock: Some(lock), then: Some(Box::new(commit)), ..Write::default() }).await
    }

    /// Signs out once the store is cleared. When the store fails, nothing changes: the
    /// user is still signed in (here and at the next launch), and the error says so. A
    /// clear that lands after the store timeout signs out then, as `sign_in` does. With a
    /// revocation endpoint, the tokens signed out are then revoked in the background.
    pub async fn sign_out(self: &Arc<Self>) -> Result<(), SessionError> {
        let lock = self.lock_for_decision().await?;
        let _writes = self.store_decisions_in_time().await?;
        let engine = Arc::clone(self);
        let commit = move || {
            let signed_out = {
                let mut st = engine.lock();
                let revoking = engine.settings.revocation_url.is_some();
                let current = match &st.phase {
                    Phase::Active(ts) if revoking => Some(ts.tokens.clone()),
                    _ => None,
                };
                st.new_epoch(Phase::SignedOut, SessionError::NotSignedIn);
                current
            };
            engine.events.emit(SessionEvent::SignedOut);
            // After the local sign-out, never instead of it: the provider is told in the
            // background (revocation.rs).
            if let Some(tokens) = signed_out {
                engine.revoke_in_background(tokens);
            }
        };
        self.store.clear(Write { lock: Some(lock), then: Some(Box::new(commit)), ..Write::default() }).await
    }

    /// The store's refresh lock for a sign-in or sign-out: another process's refresh
    /// under way saves its tokens first, never over the decision. Shared with this
    /// session's own refresh, which the new epoch then throws away.
    async fn lock_for_decision(&self) -> Result<Held, SessionError> {
        self.store.lock_for_refresh(self.settings.refresh_wait_bound()).await.map_err(|e| match e {
            SessionError::Timeout => {
                SessionError::Store { detail: "another process held the token store's refresh lock too long".into() }
            }
            e => e,
        })
    }

    /// The session's turn to decide about the store, waited for at most one store
    /// timeout: a sign-in or sign-out queued behind others and a hung store fails with the
    /// store's error (changing nothing) instead of waiting one timeout per call ahead of it.
    async fn store_decisions_in_time(&self) -> Result<tokio::sync::MutexGuard<'_, ()>, SessionError> {
        tokio::time::timeout(self.settings.store_timeout, self.writes.lock())
            .await
            .map_err(|_| SessionError::Store { detail: "the token store did not answer in time".into() })
    }

    /// Starts the first read of the store, off the caller's thread.
    pub fn start_loading(self: &Arc<Self>) {
        let mut st = self.lock();
        self.load_in_background(&mut st);
    }

    /// Waits, bounded, until the store has been read; reads it again if the last read
    /// failed (a Keychain locked until the first unlock).
    pub async fn ensure_loaded(self: &Arc<Self>) -> Result<(), SessionError> {
        let loading = {
            let mut st = self.lock();
            if !matches!(st.phase, Phase::Unloaded) {
                return Ok(());
            }
            match &st.loading {
                Some(loading) => loading.clone(),
                None => self.load_in_background(&mut st),
            }
        };
        self.wait_for_read(loading).await
    }

    /// Waits, bounded, for a store read under way, and never starts one: once the first
    /// read has failed, the state stays `Locked` until a call needs the tokens.
    pub async fn wait_for_read_under_way(&self) {
        let loading = self.lock().loading.clone();
        if let Some(loading) = loading {
            // A failed read is in the state (`Locked`); the error itself adds nothing here.
            let _ = self.wait_for_read(loading).await;
        }
    }

    async fn wait_for_read(&self, mut loading: Loading) -> Result<(), SessionError> {
        // The store call is bounded by the store timeout; this adds room for its queue.
        let bound = self.settings.store_timeout * 2;
        match tokio::time::timeout(bound, loading.wait_for(Option::is_some)).await {
            Ok(Ok(done)) => done.clone().unwrap_or(Ok(())),
            Ok(Err(_)) => Err(SessionError::Internal { detail: "the store read ended without a result".into() }),
            Err(_) => Err(SessionError::Store { detail: "the token store did not answer in time".into() }),
        }
    }

    fn load_in_background(self: &Arc<Self>, st: &mut State) -> Loading {
        let (tx, rx) = watch::channel(None);
        st.loading = Some(rx.clone());
        let epoch = st.epoch;
        let engine = Arc::clone(self);
        crate::foundation::runtime::spawn_detached(async move {
            let loaded = engine.store.load().await;
            let result = {
                let mut st = engine.lock();
                st.loading = None;
                let still_wanted = matches!(st.phase, Phase::Unloaded) && st.epoch == epoch;
                match loaded {
                    Ok(tokens) if still_wanted => {
                        match tokens.filter(|t| check_usable(t).is_ok()) {
                            Some(tokens) => {
                                engine.store.took(&tokens);
                                drop(st.adopt(tokens, false));
                            }
                            None => st.phase = Phase::SignedOut,
                        }
                        Ok(())
                    }
                    Ok(_) => Ok(()),
                    Err(e) => {
                        log::warn!(target: "refreshkit", "token store not readable yet: {e}");
                        Err(e)
                    }
                }
            };
            let _ = tx.send(Some(result));
        });
        rx
    }

    /// Saves the current tokens again, with growing pauses, until they are saved or the
    /// epoch ends, whether or not the app makes calls: the store's lock is kept meanwhile
    /// (see `State::unsaved_under`). Holds the engine weakly: a session the app drops lets
    /// its lock go.
    pub(crate) fn keep_resaving(self: &Arc<Self>, epoch: u64) {
        let engine = Arc::downgrade(self);
        crate::foundation::runtime::spawn_detached(async move {
            let mut pause = RESAVE_INTERVAL;
            loop {
                tokio::time::sleep(pause).await;
                let Some(engine) = engine.upgrade() else { return };
                let mut st = engine.lock();
                if st.epoch != epoch || !st.unsaved {
                    return;
                }
                engine.resave_if_behind(&mut st);
                pause = (pause * 2).min(MAX_RESAVE_PAUSE);
            }
        });
    }

    /// Saves the current tokens again when their save failed, at most every
    /// `RESAVE_INTERVAL`, so the store catches up as soon as it can.
    pub(crate) fn resave_if_behind(self: &Arc<Self>, st: &mut State) {
        let due = st.last_resave.is_none_or(|at| at.elapsed() >= RESAVE_INTERVAL);
        let Phase::Active(current) = &st.phase else { return };
        if !st.unsaved || !due {
            return;
        }
        st.last_resave = Some(Instant::now());
        let (current, epoch) = (Arc::clone(current), st.epoch);
        let engine = Arc::clone(self);
        crate::foundation::runtime::spawn_detached(async move {
            // Under the store's refresh lock, as a refresh saves: no other process saves
            // between the look at the store below and this save.
            let Ok(lock) = engine.store.lock_for_refresh(engine.settings.store_timeout).await else { return };
            let _writes = engine.writes.lock().await;
            let still_current = |st: &State| {
                st.epoch == epoch && matches!(&st.phase, Phase::Active(ts) if ts.generation == current.generation)
            };
            if !still_current(&engine.lock()) {
                return;
            }
            // Only a store left behind (holding this session's own older tokens) is saved
            // over: newer tokens another process saved, or its sign-out, stay; the next
            // refresh reads them.
            match engine.store.load().await {
                Ok(Some(stored)) if engine.is_own(&stored) => {}
                Ok(_) => {
                    let mut st = engine.lock();
                    if still_current(&st) {
                        st.saved();
                    }
                    return;
                }
                Err(_) => return,
            }
            let write = Write { in_epoch: Some(epoch), lock: Some(lock), ..Write::default() };
            if engine.store.save(current.tokens.clone(), write).await.is_ok() {
                let mut st = engine.lock();
                if still_current(&st) {
                    st.saved();
                    log::info!(target: "refreshkit", "tokens saved again after a failed save");
                }
            }
        });
    }
}
