//! Integration tests: the real `Session` against the real auth server process on
//! loopback. Each file pins down one behaviour of the engine.

mod helpers;

mod app_faults;
mod blocking;
mod burst;
mod cancellation;
mod client_errors;
mod config_errors;
mod dpop;
mod expiry;
mod failures;
mod file_store;
mod guard;
mod hostile;
mod hosts;
mod hung_callbacks;
mod json_protocol;
mod layer_dpop;
mod killed_mid_refresh;
mod oidc_provider;
mod proactive;
mod processes;
mod queue;
mod revocation;
mod secrets;
mod shared_store;
mod sign_out;
mod step_up;
mod store_order;
mod stores;
mod tls;
mod token_response;
mod unsaved;
mod users;
