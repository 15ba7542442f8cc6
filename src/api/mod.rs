//! What apps call: the door of the FFI. `Session` and its exported methods, the
//! configuration checked into the engine's `Settings`, and token leases.

pub(crate) mod blocking;
pub(crate) mod config;
pub(crate) mod encoded_call;
pub(crate) mod layer_dpop;
pub(crate) mod rules;
pub(crate) mod session;
pub(crate) mod step_up;
pub(crate) mod token_lease;
pub(crate) mod token_response;
