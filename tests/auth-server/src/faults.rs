//! Faults the refresh endpoints inject on request, one queued fault per refresh call.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Hold the answer, then answer normally.
    Delay { ms: u64 },
    /// Answer with this status (503 carries `Retry-After: 1`).
    Status { status: u16 },
    /// Close the connection without an answer.
    Drop,
    /// Answer 200 with a body that is not JSON.
    Malformed,
    /// Answer 200 with JSON that lacks the access token.
    MissingAccessToken,
    /// Answer 400 `invalid_grant`, as for a revoked refresh token.
    InvalidGrant,
}

/// A fault as queued: what to do, after holding the answer for `delay_ms`, so that
/// many requests are waiting on the refresh when it fails.
#[derive(Debug, Clone, Deserialize)]
pub struct QueuedFault {
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(flatten)]
    pub fault: Fault,
}

/// The message of the panic that drops a connection (hyper closes the socket when the
/// connection's task unwinds); it is expected, so it is not printed.
pub const DROP_MESSAGE: &str = "auth-server: dropping the connection on request";

pub fn silence_dropped_connection_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&DROP_MESSAGE) {
            default_hook(info);
        }
    }));
}
