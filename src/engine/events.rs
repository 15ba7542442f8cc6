//! What the app hears about its session, delivered in order on a background thread.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::types::error::{CallbackError, ExpiryReason};

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
/// Something that happened to the session, for the app's listener.
pub enum SessionEvent {
    /// `signIn` saved the tokens; the session is active.
    SignedIn,
    /// New tokens were issued (or adopted from the store) and saved.
    Refreshed,
    /// A refresh failed. When `retryable`, the tokens were kept and a later request
    /// tries again; otherwise an `Expired` event follows.
    RefreshFailed {
        /// True when the tokens were kept and a later request tries again.
        retryable: bool,
        /// What failed, never a token.
        detail: String,
    },
    /// The session is over: show the login screen.
    Expired {
        /// Why it is over.
        reason: ExpiryReason,
    },
    /// The auth server refused the app's client or scope (`invalid_client`,
    /// `invalid_scope`): fix the app's configuration. The tokens are kept.
    ClientRejected {
        /// The server's error code.
        detail: String,
    },
    /// New tokens are in use but could not be saved; they are lost if the app dies now.
    StoreFailed {
        /// What the store said.
        detail: String,
    },
    /// `signOut` cleared the store; nobody is signed in.
    SignedOut,
    /// After a sign-out, revoking its tokens at the revocation endpoint (RFC 7009)
    /// failed; the sign-out itself stands. The provider may keep the refresh token valid
    /// until it expires.
    RevocationFailed {
        /// What failed, never a token.
        detail: String,
    },
}

/// Hears session events. Called on a background thread, one event at a time, in order.
/// It may call back into the session.
#[uniffi::export(with_foreign)]
pub trait SessionListener: Send + Sync {
    /// Hears one event; an error is logged and changes nothing.
    fn on_event(&self, event: SessionEvent) -> Result<(), CallbackError>;
}

/// Queues events for one delivery task, so the engine never waits on the app and never
/// holds a lock while the app runs.
pub(crate) struct EventSink {
    tx: Option<mpsc::UnboundedSender<SessionEvent>>,
}

impl EventSink {
    pub fn new(listener: Option<Arc<dyn SessionListener>>) -> Self {
        let Some(listener) = listener else { return EventSink { tx: None } };
        let (tx, mut rx) = mpsc::unbounded_channel::<SessionEvent>();
        crate::foundation::runtime::spawn_detached(async move {
            while let Some(event) = rx.recv().await {
                let listener = Arc::clone(&listener);
                let delivered = crate::foundation::app_calls::call(move || listener.on_event(event)).await;
                match delivered {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => log::warn!(target: "refreshkit", "session listener failed: {e}"),
                    Err(_) => log::warn!(target: "refreshkit", "session listener panicked"),
                }
            }
        });
        EventSink { tx: Some(tx) }
    }

    pub fn emit(&self, event: SessionEvent) {
        log::debug!(target: "refreshkit", "event {event:?}");
        if let Some(tx) = &self.tx {
            let _ = tx.send(event);
        }
    }
}
