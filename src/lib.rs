//! refreshkit: refresh an expired access token once, replay every request that met it,
//! persist the rotated tokens, and tell the app when the session is truly over.
//!
//! A typical integration:
//!
//! ```no_run
//! # async fn demo() -> Result<(), refreshkit::SessionError> {
//! use std::sync::Arc;
//! use refreshkit::{FileTokenStore, HttpRequest, Session, SessionConfig, Tokens};
//!
//! let store = Arc::new(FileTokenStore::new("/tmp/tokens.json"));
//! let session = Session::new(SessionConfig::new("https://api.example.com"), store, None)?;
//! if session.restored_state().await.needs_sign_in() {
//!     // The app's login gives the tokens; a locked store is not signed out.
//!     session.sign_in(Tokens::new("access", Some("refresh".into()), None)).await?;
//! }
//! let response = session.execute(HttpRequest::get("/me")).await?;
//! assert_eq!(response.status, 200);
//! # Ok(()) }
//! ```
//!
//! The crate is layered; each folder uses only those below it (scripts/check-layers.py
//! checks it, docs/architecture.md draws it):
//! - `api`: what apps call, the door of the FFI: [`Session`] and its methods, the
//!   configuration checked into the engine's settings, token leases.
//! - `engine`: the refresh-once state machine: state, refresh, expiry, execute and
//!   replay, sign-in and sign-out, the refresh guard, events.
//! - `store`, `dpop`, `net`: its parts: the app's token store and the cross-process
//!   lock, DPoP proofs and nonces, the wire (reqwest, TLS, redirects).
//! - `foundation`: the runtime, the clock, and `app_calls`, the one door into the app's
//!   code (store, lock, key, listener, logger).
//! - `types`: the records and errors every layer speaks.

#![warn(missing_docs)]

#[cfg(target_os = "android")]
mod android;
mod api;
mod dpop;
mod engine;
mod foundation;
#[doc(hidden)]
pub mod fuzzing;
mod net;
#[cfg(feature = "simulation")]
#[doc(hidden)]
pub mod simulation;
mod store;
mod types;

pub use api::config::{default_session_config, SessionConfig};
pub use api::layer_dpop::AnswerMeaning;
pub use api::session::{Session, SessionMetrics};
pub use api::step_up::parse_step_up_challenge;
pub use api::token_lease::{refreshkit_token_lease_is_current, TokenLease};
pub use api::token_response::tokens_from_token_response;
pub use dpop::key::{software_dpop_key, DpopKey, DpopKeyError, SoftwareDpopKey};
pub use engine::events::{SessionEvent, SessionListener};
pub use engine::settings::{BodyRule, RefreshProtocol};
pub use foundation::logger::{install_logger, LogLevel, LogRecord, Logger};
pub use store::file_store::FileTokenStore;
pub use store::refresh_lock::{file_refresh_lock, FileRefreshLock, RefreshLock};
pub use store::TokenStore;
pub use types::error::{CallbackError, ExpiryReason, SessionError, StoreError};
pub use types::http::{HttpHeader, HttpRequest, HttpResponse};
pub use types::state::SessionState;
pub use types::step_up::{StepUpChallenge, StepUpReason};
pub use types::tokens::Tokens;

uniffi::setup_scaffolding!();

/// The README's Rust examples are compiled as doctests, so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
