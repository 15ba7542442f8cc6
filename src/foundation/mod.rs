//! What everything runs on: the library's runtime, the clock, and `app_calls`, the
//! one door into the app's code.

pub(crate) mod app_calls;
pub(crate) mod clock;
#[cfg(feature = "simulation")]
pub(crate) mod harness;
pub(crate) mod logger;
pub(crate) mod runtime;
