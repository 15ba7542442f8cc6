//! How often each of the world's faults happens, drawn per world from the run's seed: the
//! auth server's, the API's and the store's.

use crate::rng::Rng;

/// How often each fault happens in this world, per thousand.
pub struct Faults {
    pub refresh_lost_before: u64,
    pub refresh_lost_after: u64,
    pub refresh_5xx: u64,
    pub refresh_revoked: u64,
    /// The network delivers the refresh request twice: the second is a reuse.
    pub refresh_duplicated: u64,
    pub refresh_slow_ms: u64,
    pub api_lost: u64,
    pub api_5xx: u64,
    pub api_slow_ms: u64,
    pub store_fail: u64,
    pub store_hang: u64,
    pub store_slow_ms: u64,
}

impl Faults {
    pub fn draw(rng: &mut Rng) -> Faults {
        // Some worlds are calm, some stormy: faults everywhere at a low rate finds less
        // than a few places failing often.
        let mut rate = |max: u64| if rng.chance(500) { 0 } else { rng.below(max + 1) };
        Faults {
            refresh_lost_before: rate(150),
            refresh_lost_after: rate(150),
            refresh_5xx: rate(200),
            refresh_revoked: rate(30),
            refresh_duplicated: rate(30),
            refresh_slow_ms: rate(12_000),
            api_lost: rate(100),
            api_5xx: rate(100),
            api_slow_ms: rate(3_000),
            store_fail: rate(200),
            store_hang: rate(100),
            store_slow_ms: rate(300),
        }
    }
}
