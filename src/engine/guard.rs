//! The refresh guard. It trips on a loop, a server that rejects freshly refreshed
//! tokens before they served a single request, and lets short-lived tokens refresh as
//! often as their lifetime asks. A cap on refreshes per window is only a backstop.

use std::collections::VecDeque;
use std::time::Duration;

use crate::foundation::clock::Instant;

/// Fresh tokens rejected in a row, before they served anything, that make a loop.
pub(crate) const LOOP_LIMIT: u32 = 3;

#[derive(Default)]
pub(crate) struct Guard {
    /// The newest generation that got an answer not meaning "expired".
    served: u64,
    /// Refreshes in a row whose tokens were rejected before serving.
    unserved_streak: u32,
    tripped_at: Option<Instant>,
    /// The last rejected generation and the verdict on it: every caller that met the
    /// rejection of one token gets one answer, and the streak counts tokens, not callers.
    verdict: Option<(u64, bool)>,
    /// Successful refreshes that followed a rejection, for the backstop.
    recent: VecDeque<Instant>,
}

impl Guard {
    pub fn served(&mut self, generation: u64) {
        if generation > self.served {
            self.served = generation;
            self.unserved_streak = 0;
            self.tripped_at = None;
        }
    }

    /// Called when the server rejected `generation`. False when refreshing again would
    /// be part of a loop (or go past the backstop); after `window` one more try is allowed.
    pub fn allows_refresh_after_rejection(
        &mut self,
        generation: u64,
        from_refresh: bool,
        max_per_window: u32,
        window: Duration,
    ) -> bool {
        if let Some((checked, allowed)) = self.verdict {
            let still_tripped = self.tripped_at.is_some_and(|at| at.elapsed() <= window);
            if checked == generation && (allowed || still_tripped) {
                return allowed;
            }
        }
        let allowed = self.judge(generation, from_refresh, max_per_window, window);
        self.verdict = Some((generation, allowed));
        allowed
    }

    fn judge(&mut self, generation: u64, from_refresh: bool, max_per_window: u32, window: Duration) -> bool {
        let now = Instant::now();
        if from_refresh && self.served < generation {
            self.unserved_streak += 1;
        } else {
            self.unserved_streak = 0;
        }
        while self.recent.front().is_some_and(|t| now.duration_since(*t) > window) {
            self.recent.pop_front();
        }
        let looping = self.unserved_streak >= LOOP_LIMIT;
        let capped = self.recent.len() >= max_per_window as usize;
        if !looping && !capped {
            return true;
        }
        match self.tripped_at {
            Some(at) if now.duration_since(at) > window => {
                // A fresh try after a quiet window; another rejection trips again.
                self.tripped_at = Some(now);
                self.unserved_streak = LOOP_LIMIT - 1;
                !capped
            }
            Some(_) => false,
            None => {
                self.tripped_at = Some(now);
                false
            }
        }
    }

    pub fn refreshed_after_rejection(&mut self) {
        self.recent.push_back(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(30);

    #[test]
    fn fresh_tokens_rejected_before_serving_trip_the_guard_after_the_loop_limit() {
        let mut guard = Guard::default();
        assert!(guard.allows_refresh_after_rejection(1, false, 30, WINDOW), "a login token may be refreshed");
        for generation in 2..=LOOP_LIMIT as u64 {
            assert!(guard.allows_refresh_after_rejection(generation, true, 30, WINDOW));
        }
        assert!(!guard.allows_refresh_after_rejection(LOOP_LIMIT as u64 + 1, true, 30, WINDOW));
    }

    #[test]
    fn tokens_that_served_reset_the_streak() {
        let mut guard = Guard::default();
        for generation in 1..100 {
            guard.served(generation);
            assert!(guard.allows_refresh_after_rejection(generation, true, 1000, WINDOW));
            guard.refreshed_after_rejection();
        }
    }

    #[test]
    fn the_backstop_caps_refreshes_per_window() {
        let mut guard = Guard::default();
        for generation in 1..=5 {
            guard.served(generation);
            assert!(guard.allows_refresh_after_rejection(generation, true, 5, WINDOW));
            guard.refreshed_after_rejection();
        }
        guard.served(6);
        assert!(!guard.allows_refresh_after_rejection(6, true, 5, WINDOW));
    }
}
