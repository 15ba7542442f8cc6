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
//! session.sign_in(Tokens::new("access", Some("refresh".into()), None)).await?;
//! let response = session.execute(HttpRequest::get("/me")).await?;
//! assert_eq!(response.status, 200);
//! # Ok(()) }
//! ```
//!
//! The pieces: [`Session`] is the front door; `engine` coordinates the refresh and
//! `execute` sends and replays; [`TokenStore`], [`SessionListener`] and [`Logger`] are the
//! seams the app implements in Kotlin, Swift or Rust; `config`, `error` and `runtime` are
//! the glue.

#![warn(missing_docs)]

#[cfg(target_os = "android")]
mod android;
mod app_calls;
mod blocking;
mod challenge;
mod clock;
mod config;
mod dpop;
mod dpop_session;
mod engine;
mod error;
mod events;
mod execute;
mod file_store;
#[doc(hidden)]
pub mod fuzzing;
mod guard;
mod http;
mod jwt;
mod layer_dpop;
mod lifecycle;
mod logger;
mod protocol;
mod redirect;
mod refresh;
mod refresh_lock;
mod rules;
mod runtime;
mod session;
#[cfg(feature = "simulation")]
#[doc(hidden)]
pub mod simulation;
mod store;
mod store_lock;
mod tls;
mod token_lease;
mod tokens;
mod transport;
mod wire;

pub use config::{default_session_config, BodyRule, RefreshProtocol, SessionConfig};
pub use dpop::{software_dpop_key, DpopKey, DpopKeyError, SoftwareDpopKey};
pub use error::{CallbackError, ExpiryReason, SessionError, StoreError};
pub use events::{SessionEvent, SessionListener};
pub use file_store::FileTokenStore;
pub use http::{HttpHeader, HttpRequest, HttpResponse};
pub use layer_dpop::AnswerMeaning;
pub use logger::{install_logger, LogLevel, LogRecord, Logger};
pub use refresh_lock::{file_refresh_lock, FileRefreshLock, RefreshLock};
pub use session::{Session, SessionMetrics, SessionState};
pub use store::TokenStore;
pub use token_lease::{refreshkit_token_lease_is_current, TokenLease};
pub use tokens::Tokens;

uniffi::setup_scaffolding!();

/// The README's Rust examples are compiled as doctests, so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
