//! The simulated token store every process shares (as an app and its extensions share
//! one Keychain item), with its faults, outages, long spells of failing saves and the
//! refresh lock, one holder at a time, which some worlds' stores sometimes fail to give.

use std::sync::Arc;

use refreshkit::{RefreshLock, StoreError, TokenStore, Tokens};
use tokio::time::Instant;

use crate::invariants::Invariant;
use crate::world::{lock, Shared, State};

/// The app's token store as one process sees it: every process's store is the same
/// storage, as an app and its extensions share one Keychain item.
pub struct SimStore {
    pub process: u64,
    pub state: Shared,
}

impl SimStore {
    fn fault(&self, s: &mut State, what: &str) -> Result<(), StoreError> {
        let now = Instant::now();
        let outage = s.outage_until.is_some_and(|until| now < until);
        let full = what == "save" && s.saves_fail.is_some_and(|(from, until)| from <= now && now < until);
        let fail = s.faults.store_fail;
        if outage || full || s.rng.chance(fail) {
            let process = self.process;
            s.note(|| format!("p{process} store {what} fails"));
            return Err(StoreError::Failed { detail: format!("simulated {what} failure") });
        }
        Ok(())
    }
}

impl TokenStore for SimStore {
    fn load(&self) -> Result<Option<Tokens>, StoreError> {
        let mut s = lock(&self.state);
        self.fault(&mut s, "load")?;
        let stored = s.stored.clone();
        let process = self.process;
        if let Some(w) = s.processes.get_mut(&process) {
            if stored.is_none() {
                w.empty_reads += 1;
            }
        }
        s.note(|| format!("p{process} store load: {:?}", stored.as_ref().map(|t| t.access_token.clone())));
        Ok(stored)
    }

    fn save(&self, tokens: Tokens) -> Result<(), StoreError> {
        let mut s = lock(&self.state);
        self.fault(&mut s, "save")?;
        let process = self.process;
        if s.processes.get(&process).is_some_and(|w| w.signed_out) {
            s.violated(
                Invariant::SignOutIsFinal,
                format!("p{process}: saved {} after its sign-out returned", tokens.access_token),
            );
        } else if s.signed_out_everywhere {
            s.violated(
                Invariant::SignOutIsFinal,
                format!("p{process}: saved {} after another process's sign-out returned", tokens.access_token),
            );
        }
        // A save of an older generation than the store holds: the store goes back.
        let saved = s.seq_of_access(&tokens.access_token);
        let held = s.stored.as_ref().and_then(|t| s.seq_of_access(&t.access_token));
        if let (Some((family, older)), Some((held_family, newer))) = (saved, held) {
            if family == held_family && older < newer {
                let detail = format!("p{process}: saved {} over a newer generation", tokens.access_token);
                s.violated(Invariant::StoreNotBehind, detail);
            }
        }
        if let Some(refresh) = &tokens.refresh_token {
            s.supersede_ancestors(refresh);
        }
        s.note(|| format!("p{process} store save {}", tokens.access_token));
        let at = s.tick();
        if let Some(i) = s.sign_ins.iter_mut().find(|i| i.access_token == tokens.access_token) {
            i.landed = at;
        }
        s.stored = Some(tokens);
        s.cleared_by = None;
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        let mut s = lock(&self.state);
        self.fault(&mut s, "clear")?;
        let process = self.process;
        s.note(|| format!("p{process} store clear"));
        if s.stored.is_some() {
            s.cleared_by = Some((process, Instant::now()));
        }
        s.stored = None;
        Ok(())
    }

    fn refresh_lock(&self) -> Option<Arc<dyn RefreshLock>> {
        let mut s = lock(&self.state);
        if !s.shared_lock {
            return None;
        }
        let fails = s.lock_fails;
        if fails > 0 && s.rng.chance(fails) {
            let process = self.process;
            s.note(|| format!("p{process} store refresh_lock() fails"));
            drop(s);
            // As a Kotlin or Swift exception arrives; `resume_unwind` skips the panic hook,
            // which would print every one.
            std::panic::resume_unwind(Box::new("simulated refresh_lock() failure"));
        }
        s.next_lock += 1;
        Some(Arc::new(SimLock { id: s.next_lock, state: Arc::clone(&self.state) }))
    }
}

/// The refresh lock the processes share, one holder at a time, like `FileRefreshLock`.
struct SimLock {
    id: u64,
    state: Shared,
}

impl RefreshLock for SimLock {
    fn acquire(&self, _timeout_ms: u64) -> Result<bool, StoreError> {
        let mut s = lock(&self.state);
        if s.lock_holder.is_none() {
            s.lock_holder = Some(self.id);
            return Ok(true);
        }
        Ok(false)
    }

    fn release(&self) -> Result<(), StoreError> {
        let mut s = lock(&self.state);
        if s.lock_holder == Some(self.id) {
            s.lock_holder = None;
        }
        Ok(())
    }
}
