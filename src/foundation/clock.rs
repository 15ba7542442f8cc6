//! The engine's two clocks, in one place so the simulation can replace them: wall-clock
//! time for token expiry, and tokio's monotonic `Instant` for deadlines (the same as
//! `std::time::Instant` unless a simulation paused tokio's clock).

use std::time::SystemTime;

pub(crate) use tokio::time::Instant;

/// The wall-clock time, for token expiry.
#[cfg(not(feature = "simulation"))]
pub(crate) fn now() -> SystemTime {
    SystemTime::now()
}

/// The wall-clock time: a harness's when one is installed (the simulation derives it
/// from tokio's paused clock).
#[cfg(feature = "simulation")]
pub(crate) fn now() -> SystemTime {
    crate::foundation::harness::installed().map_or_else(SystemTime::now, |h| h.now())
}
