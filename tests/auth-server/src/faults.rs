//! Faults the refresh endpoints inject on request, one queued fault per refresh call.

use std::future::Future;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Rotate the tokens at once, then hold the answer this long (a slow network).
    Delay { ms: u64 },
    /// Answer with this status (503 carries `Retry-After: 1`).
    Status { status: u16 },
    /// Close the connection without an answer.
    Drop,
    /// Send the status line and headers, then close the connection mid-body.
    Truncate,
    /// Answer with tokens the protected resources do not accept.
    RejectedTokens,
    /// Answer 200 with a body that is not JSON.
    Malformed,
    /// Answer 200 with JSON that lacks the access token.
    MissingAccessToken,
    /// Answer 400 `invalid_grant`, as for a revoked refresh token.
    InvalidGrant,
    /// Answer with this status and JSON body, as given.
    Answer { status: u16, body: serde_json::Value },
    /// Answer with this status and a page that is not JSON (a proxy's, a WAF's, a
    /// captive portal's), as given.
    Page { status: u16, content_type: String, body: String },
    /// Answer 200 with a body of this many bytes (a hostile or broken server).
    Huge { bytes: usize },
    /// Redirect the refresh call (307 re-posts the refresh token) to `location`.
    Redirect { status: u16, location: String },
}

/// A fault as queued: what to do, after holding the answer for `delay_ms`, so that
/// many requests are waiting on the refresh when it fails.
#[derive(Debug, Clone, Deserialize)]
pub struct QueuedFault {
    #[serde(default)]
    pub delay_ms: u64,
    /// Hold the call until `POST /control/release`, so a test can gather its waiters first.
    #[serde(default)]
    pub gated: bool,
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

/// Sends the start of a JSON answer, waits so that hyper flushes it with the headers,
/// then fails: hyper closes the connection in the middle of the body.
pub struct TruncatedBody {
    sent: bool,
    pause: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Default for TruncatedBody {
    fn default() -> Self {
        TruncatedBody { sent: false, pause: Box::pin(tokio::time::sleep(std::time::Duration::from_millis(50))) }
    }
}

impl http_body::Body for TruncatedBody {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        if !self.sent {
            self.sent = true;
            return Poll::Ready(Some(Ok(http_body::Frame::data(bytes::Bytes::from_static(b"{\"access_token\":")))));
        }
        match self.pause.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::other("cut mid-response")))),
        }
    }
}
