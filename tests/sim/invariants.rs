//! The invariants, by name (docs/simulation.md lists them beside the guarantees they protect).
//! The world checks 1, 2 and 3 as requests and store writes arrive (world.rs); the app
//! checks 6 and 7 as each call returns, 5 after every step, 4 once the world is quiet,
//! and 8 as each event arrives and after every step (here).

use std::fmt;
use std::time::Duration;

use refreshkit::simulation::Probe;
use refreshkit::{ExpiryReason, SessionError, SessionEvent};

use crate::world::{State, SECRET_MARK};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invariant {
    /// Invariant 1: At most one refresh per token generation per session; with the shared lock, at
    /// most one use of each refresh token overall.
    OneRefreshPerGeneration,
    /// Invariant 2: A request carries only a token of the sign-in it started under, and only to a
    /// host that may receive it.
    TokenStaysHome,
    /// Invariant 3: After `sign_out` returns, no store write brings tokens back until a new `sign_in`.
    SignOutIsFinal,
    /// Invariant 4: The store never ends up older than the tokens the session uses, unless a save
    /// failed and the engine knows it.
    StoreNotBehind,
    /// Invariant 5: The session expires only when the server rejected its refresh token (or
    /// another process removed the tokens from the store).
    ExpiresOnlyWhenRejected,
    /// Invariant 6: Every call returns within its documented bound, in virtual time.
    CallsAreBounded,
    /// Invariant 7: No token in any log record, error text or event.
    NoTokenInText,
    /// Invariant 8: An expiry is one operation of the session, like a refresh: the app hears
    /// `Expired` once per sign-in, and a session whose expiry cleared the store does not
    /// stay active (its caller cancelled or not).
    ExpiryIsShared,
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Invariant::OneRefreshPerGeneration => "1 one-refresh-per-generation",
            Invariant::TokenStaysHome => "2 token-stays-home",
            Invariant::SignOutIsFinal => "3 sign-out-is-final",
            Invariant::StoreNotBehind => "4 store-not-behind",
            Invariant::ExpiresOnlyWhenRejected => "5 expires-only-when-rejected",
            Invariant::CallsAreBounded => "6 calls-are-bounded",
            Invariant::NoTokenInText => "7 no-token-in-text",
            Invariant::ExpiryIsShared => "8 expiry-is-shared",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Violation {
    pub invariant: Invariant,
    pub detail: String,
    pub at: Duration,
}

/// Invariant 7 for one text the app or the logs would see.
pub fn check_text(s: &mut State, what: &str, text: &str) {
    if text.contains(SECRET_MARK) {
        s.violated(Invariant::NoTokenInText, format!("{what} shows a token"));
    }
}

/// Invariants 6 and 7 for a call that returned.
pub fn check_call<T>(
    s: &mut State,
    process: u64,
    call: &str,
    (took, bound): (Duration, Duration),
    result: &Result<T, SessionError>,
) {
    if took > bound {
        s.violated(
            Invariant::CallsAreBounded,
            format!("p{process}: {call} took {took:?}, over its bound of {bound:?}"),
        );
    }
    if let Err(e) = result {
        check_text(s, "an error", &e.to_string());
        check_text(s, "an error's Debug", &format!("{e:?}"));
    }
}

/// Invariant 5, whenever a process is seen expired in an epoch not yet checked.
pub fn check_expiry(s: &mut State, process: u64, probe: &Probe) {
    let Some(reason) = probe.expired else { return };
    let Some(watch) = s.processes.get_mut(&process) else { return };
    if watch.expiry_checked == Some(probe.epoch) {
        return;
    }
    watch.expiry_checked = Some(probe.epoch);
    let (rejections, empty_reads, bare) = (watch.rejections, watch.empty_reads, watch.bare_rejections);
    let fine = match reason {
        ExpiryReason::RefreshRejected => rejections > 0,
        ExpiryReason::RemovedFromStore => empty_reads > 0,
        // A token that came without a refresh token ends the session when it is rejected.
        ExpiryReason::NoRefreshToken => bare > 0,
        // The simulated sessions hold Bearer tokens: no key to lose.
        ExpiryReason::DpopKeyGone => false,
    };
    if !fine {
        s.violated(
            Invariant::ExpiresOnlyWhenRejected,
            format!(
                "p{process}: expired ({reason}) with {rejections} rejections, {empty_reads} empty store reads \
                 and {bare} rejections of a token without a refresh token"
            ),
        );
    }
}

/// Invariant 8, as the app hears each event of `process`: `Expired` once, until the next
/// sign-in or sign-out (events arrive in order, so an expiry of an earlier sign-in
/// cannot come after the next one's `SignedIn`).
pub fn check_event(s: &mut State, process: u64, event: &SessionEvent) {
    let Some(watch) = s.processes.get_mut(&process) else { return };
    match event {
        SessionEvent::Expired { reason } if watch.heard_expired => {
            let detail = format!("p{process}: the app heard Expired ({reason}) again, with no sign-in between");
            s.violated(Invariant::ExpiryIsShared, detail);
        }
        SessionEvent::Expired { .. } => watch.heard_expired = true,
        SessionEvent::SignedIn | SessionEvent::SignedOut => watch.heard_expired = false,
        _ => {}
    }
}

/// Invariant 8, after every step and once the world is quiet: a process whose own clear
/// emptied the store (an expiry's, or a sign-out's) is not active a store timeout later.
pub fn check_store_follows(s: &mut State, process: u64, probe: &Probe) {
    let Some((by, at)) = s.cleared_by else { return };
    if by != process || probe.access_token.is_none() || s.stored.is_some() || at.elapsed() < s.store_timeout {
        return;
    }
    let detail = format!("p{process} cleared the store {:?} ago and still says Active", at.elapsed());
    s.violated(Invariant::ExpiryIsShared, detail);
    // Once per clear.
    s.cleared_by = None;
}

/// Invariant 4, once the world is quiet: a process using tokens the store does not
/// hold (an older generation of the same family in their place) must know it.
pub fn check_store_behind(s: &mut State, process: u64, probe: &Probe) {
    let Some(current) = &probe.access_token else { return };
    if probe.unsaved {
        return;
    }
    let Some(stored) = s.stored.as_ref().map(|t| t.access_token.clone()) else { return };
    let (Some((family, used)), Some((stored_family, held))) = (s.seq_of_access(current), s.seq_of_access(&stored))
    else {
        return;
    };
    if family == stored_family && held < used {
        s.violated(
            Invariant::StoreNotBehind,
            format!("p{process} uses {current} but the store holds the older {stored}, and the engine thinks it saved"),
        );
    }
}
