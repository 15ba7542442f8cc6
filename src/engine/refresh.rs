//! One refresh, from "the token is stale" to "every waiter has the result": re-read the
//! store (another process may have rotated), ask the server, save, then activate.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::watch;

use crate::engine::events::SessionEvent;
use crate::engine::protocol;
use crate::engine::protocol::RefreshFailure;
use crate::engine::token_set::TokenSet;
use crate::engine::{bump, Engine, InFlight, Need, Phase, RefreshResult, State};
use crate::store::shared_lock::Held;
use crate::store::Write;
use crate::types::error::{ExpiryReason, SessionError};
use crate::types::tokens::{check_usable, Tokens};

impl Engine {
    pub(crate) fn start_refresh(
        self: &Arc<Self>,
        st: &mut State,
        from: Arc<TokenSet>,
        need: Need,
    ) -> watch::Receiver<Option<RefreshResult>> {
        let (tx, rx) = watch::channel(None);
        if let Need::Replacing(generation) = need {
            let (max, window) = (self.settings.max_refreshes, self.settings.refresh_window);
            if !st.guard.allows_refresh_after_rejection(generation, from.from_refresh, max, window) {
                log::warn!(target: "refreshkit", "refresh refused by the guard: fresh tokens keep being rejected");
                let _ = tx.send(Some(Err(SessionError::TooManyRefreshes)));
                return rx;
            }
        }
        st.last_flight += 1;
        let (id, epoch) = (st.last_flight, st.epoch);
        st.in_flight = Some(InFlight { id, result: rx.clone(), wake: tx.clone() });
        log::debug!(target: "refreshkit", "refresh {id} starts from generation {}", from.generation);
        let engine = Arc::clone(self);
        crate::foundation::runtime::spawn_detached(async move {
            let _ends_flight = FlightGuard { engine: Arc::clone(&engine), id };
            let after_rejection = matches!(need, Need::Replacing(_));
            let result = engine.run_refresh(id, epoch, from, after_rejection).await;
            let _ = tx.send(Some(result));
        });
        rx
    }

    /// Starts ending the session from outside a refresh (a rejected token without a
    /// refresh token, a DPoP key that is gone) as the refresh is run: one operation for
    /// every caller, in a task of its own, so a cancelled caller never leaves it half
    /// done (the store cleared, the session still `Active`, no event).
    pub(crate) fn start_expiry(
        self: &Arc<Self>,
        st: &mut State,
        epoch: u64,
        reason: ExpiryReason,
    ) -> watch::Receiver<Option<RefreshResult>> {
        let (tx, rx) = watch::channel(None);
        st.last_flight += 1;
        let id = st.last_flight;
        st.in_flight = Some(InFlight { id, result: rx.clone(), wake: tx.clone() });
        let engine = Arc::clone(self);
        crate::foundation::runtime::spawn_detached(async move {
            let _ends_flight = FlightGuard { engine: Arc::clone(&engine), id };
            let result = engine.expire_unless_news(id, epoch, reason).await;
            let _ = tx.send(Some(result));
        });
        rx
    }

    async fn run_refresh(
        self: &Arc<Self>,
        id: u64,
        epoch: u64,
        from: Arc<TokenSet>,
        after_rejection: bool,
    ) -> RefreshResult {
        // Under the store's lock (when it has one), until the rotated tokens are saved:
        // another process that refreshes meanwhile waits, then finds them in the store.
        let lock = match self.store.lock_for_refresh(self.settings.refresh_timeout).await {
            Ok(held) => held,
            Err(e) => {
                log::info!(target: "refreshkit", "refresh {id}: the store's refresh lock could not be held: {e}");
                return self.fail(id, epoch, e);
            }
        };
        // Another process or Session sharing the store may have rotated the tokens:
        // adopt theirs rather than spend a refresh token that is already used. Tokens
        // this session held are never news, even when a failed save left them there.
        let mut basis = from.tokens.clone();
        match self.store.load().await {
            Err(e) => return self.fail(id, epoch, e),
            Ok(None) => return self.expire(Some(id), epoch, ExpiryReason::RemovedFromStore, Some(lock)).await,
            Ok(Some(stored)) if self.is_news(&stored) => {
                let fresh = !TokenSet::new(stored.clone(), 0, epoch, false)
                    .expires_within(crate::foundation::clock::now(), self.settings.leeway);
                if fresh || stored.refresh_token.is_none() {
                    log::debug!(target: "refreshkit", "refresh {id}: adopted newer tokens from the store");
                    return self.activate(id, epoch, stored, false);
                }
                basis = stored;
            }
            Ok(Some(_)) => {}
        }
        // A sign-in or sign-out while the lock and the store were awaited ended this
        // refresh's session: its refresh token must not be spent for nothing.
        if self.lock().epoch != epoch {
            return self.fail(id, epoch, SessionError::SessionChanged);
        }
        let Some(refresh_token) = basis.refresh_token.clone() else {
            return self.expire(Some(id), epoch, ExpiryReason::NoRefreshToken, Some(lock)).await;
        };
        match protocol::refresh(&self.wire, &self.settings, &refresh_token, self.dpop.as_ref()).await {
            Ok(mut fresh) => {
                fresh.keep_from(&basis);
                {
                    let mut st = self.lock();
                    if after_rejection {
                        st.guard.refreshed_after_rejection();
                    }
                    // Another process's tokens, spent now: if the rotated tokens' save
                    // fails, the store still holding them must not make them news again.
                    if st.epoch == epoch && basis.access_token != from.tokens.access_token {
                        self.store.took(&basis);
                    }
                }
                self.persist_and_activate(id, epoch, fresh, lock).await
            }
            Err(RefreshFailure::Rejected { detail }) => {
                log::info!(target: "refreshkit", "refresh {id}: rejected by the server ({detail})");
                // The rejection may mean another process rotated while we asked.
                if let Ok(Some(stored)) = self.store.load().await {
                    if self.is_news(&stored) {
                        return self.activate(id, epoch, stored, false);
                    }
                }
                self.expire(Some(id), epoch, ExpiryReason::RefreshRejected, Some(lock)).await
            }
            Err(RefreshFailure::ClientRejected { detail }) => {
                log::warn!(target: "refreshkit", "refresh {id}: the server refused the app's client ({detail})");
                self.events.emit(SessionEvent::ClientRejected { detail: detail.clone() });
                self.fail(id, epoch, SessionError::ClientRejected { detail })
            }
            Err(RefreshFailure::Transient(e)) => self.fail(id, epoch, e),
            Err(RefreshFailure::KeyGone) => self.expire(Some(id), epoch, ExpiryReason::DpopKeyGone, Some(lock)).await,
        }
    }

    /// Whether tokens read from the store were written by someone else, and can be used.
    fn is_news(&self, stored: &Tokens) -> bool {
        !self.is_own(stored) && check_usable(stored).is_ok()
    }

    /// Whether tokens read from the store are this session's own: held in this epoch, or
    /// what the store holds as its own however many saves failed since.
    pub(crate) fn is_own(&self, stored: &Tokens) -> bool {
        self.lock().held(stored) || self.store.holds_own(stored)
    }

    /// Saves new tokens before any waiter sees them, unless the session changed. The
    /// store's lock stays held until the save returns, even if it outlives this call.
    async fn persist_and_activate(self: &Arc<Self>, id: u64, epoch: u64, tokens: Tokens, lock: Held) -> RefreshResult {
        let _writes = self.writes.lock().await;
        if self.lock().epoch != epoch {
            log::debug!(target: "refreshkit", "refresh {id}: the session changed, result thrown away");
            bump(&self.metrics.discarded);
            return Err(self.lock().changed_error());
        }
        bump(&self.metrics.refreshes);
        let kept = lock.share();
        let write = Write { in_epoch: Some(epoch), lock: Some(lock), ..Write::default() };
        let saved = self.store.save(tokens.clone(), write).await;
        // Fails when a sign-in or sign-out finished at the store first: then nothing of
        // this epoch stays.
        let activated = self.activate(id, epoch, tokens, true)?;
        let mut st = self.lock();
        // A sign-in or sign-out whose write landed late may have ended the epoch since.
        if st.epoch != epoch {
            return Ok(activated);
        }
        let Err(e) = saved else {
            st.saved();
            return Ok(activated);
        };
        // The server has rotated: the new tokens are the only valid ones, so use them,
        // and save them again until the store has them, keeping the lock meanwhile.
        if st.unsaved_under(kept) {
            self.keep_resaving(epoch);
        }
        drop(st);
        log::warn!(target: "refreshkit", "refresh {id}: new tokens could not be saved: {e}");
        self.events.emit(SessionEvent::StoreFailed { detail: e.to_string() });
        Ok(activated)
    }

    fn activate(&self, id: u64, epoch: u64, tokens: Tokens, from_refresh: bool) -> RefreshResult {
        let ts = {
            let mut st = self.lock();
            st.end_flight(id);
            if st.epoch != epoch {
                bump(&self.metrics.discarded);
                return Err(st.changed_error());
            }
            if !from_refresh {
                self.store.took(&tokens);
            }
            st.adopt(tokens, from_refresh)
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

    /// Ends the session from outside a refresh (see `start_expiry`): under the store's
    /// lock, as every store write is,
    /// and only when the store holds nothing newer; another process's tokens or sign-in
    /// are adopted instead, never wiped.
    ///
    /// Boxed: it is rare, and every request's future would otherwise carry its size.
    fn expire_unless_news(
        &self,
        id: u64,
        epoch: u64,
        reason: ExpiryReason,
    ) -> Pin<Box<dyn Future<Output = RefreshResult> + Send + '_>> {
        Box::pin(async move {
            let lock = self.store.lock_for_refresh(self.settings.refresh_timeout).await?;
            if let Some(stored) = self.store.load().await?.filter(|stored| self.is_news(stored)) {
                let ts = {
                    let mut st = self.lock();
                    st.end_flight(id);
                    if st.epoch != epoch {
                        return Err(st.changed_error());
                    }
                    self.store.took(&stored);
                    st.adopt(stored, false)
                };
                log::debug!(target: "refreshkit", "adopted newer tokens from the store instead of expiring");
                self.events.emit(SessionEvent::Refreshed);
                return Ok(ts);
            }
            self.expire(Some(id), epoch, reason, Some(lock)).await
        })
    }

    /// Ends the session: clears the store and fails every waiter with "session expired".
    pub(crate) async fn expire(
        &self,
        id: Option<u64>,
        epoch: u64,
        reason: ExpiryReason,
        lock: Option<Held>,
    ) -> RefreshResult {
        let _writes = self.writes.lock().await;
        if self.lock().epoch == epoch {
            let write = Write { in_epoch: Some(epoch), lock, ..Write::default() };
            match self.store.clear(write).await {
                Ok(()) | Err(SessionError::SessionChanged) => {}
                Err(e) => log::warn!(target: "refreshkit", "expired tokens could not be cleared: {e}"),
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
            // Cleared, or left holding tokens the server rejected: nothing to keep it for.
            st.saved();
        }
        bump(&self.metrics.refresh_failures);
        log::info!(target: "refreshkit", "session expired: {reason}");
        let error = SessionError::SessionExpired { reason };
        self.events.emit(SessionEvent::RefreshFailed { retryable: false, detail: error.to_string() });
        self.events.emit(SessionEvent::Expired { reason });
        Err(error)
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
