//! Where requests leave the engine: the API call and the refresh call both go through
//! `Wire::send`. In production that is reqwest, always; the simulation (a non-default
//! feature) hands the built request to its own world instead, so the engine it runs is
//! the real one up to the socket.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;
use reqwest::RequestBuilder;
use tokio::runtime::{Handle, Id};

use crate::types::error::SessionError;

pub(crate) struct Wire {
    /// For calls on the library's runtime: Kotlin, Swift, the `_blocking` forms and the
    /// refresh. Follows no redirect: the refresh token is only ever posted to the
    /// configured endpoint, and `execute` follows redirects itself, deciding the token
    /// per hop.
    client: reqwest::Client,
    /// One client per caller's runtime (`use_callers_runtime`), newest last. A pooled
    /// connection is driven by a task of the runtime that opened it: handed to a call on
    /// another runtime, it waits for a runtime that may be idle, and the call times out.
    callers: Mutex<Vec<(Id, reqwest::Client)>>,
    tls: rustls::ClientConfig,
    connect_timeout: Duration,
    /// Where requests go instead of reqwest in a simulated session.
    #[cfg(feature = "simulation")]
    simulated: Option<std::sync::Arc<dyn Exchange>>,
}

/// Answers the requests of a simulated wire (the simulation's world) in place of the
/// network: the request as reqwest would send it, and the body limit to apply.
#[cfg(feature = "simulation")]
pub(crate) trait Exchange: Send + Sync {
    fn exchange(&self, request: RequestBuilder, limit: u64) -> Receiving<'_>;
}

/// How many callers' runtimes keep a client (and its pool): an app has one or two.
const CALLERS_RUNTIMES: usize = 4;

/// An answer as received: its status, headers and body.
pub(crate) type Received = (u16, HeaderMap, Bytes);

/// A simulated wire's answer, on its way.
#[cfg(feature = "simulation")]
pub(crate) type Receiving<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Received, WireError>> + Send + 'a>>;

/// How an exchange failed, before the caller names it.
pub(crate) enum WireError {
    /// The body is larger than the caller's limit.
    TooLarge,
    Failed(SessionError),
}

impl Wire {
    /// A wire whose connections are made within `request_timeout` (at most 15 s).
    pub fn new(request_timeout: Duration) -> Result<Wire, SessionError> {
        let tls = crate::net::tls::client_config()?;
        let connect_timeout = request_timeout.min(Duration::from_secs(15));
        Ok(Wire {
            client: http_client(tls.clone(), connect_timeout)?,
            callers: Mutex::new(Vec::new()),
            tls,
            connect_timeout,
            #[cfg(feature = "simulation")]
            simulated: None,
        })
    }

    /// The wire of a simulation's session: requests are built, never sent, so one wire's
    /// client and TLS serve them all (building them reads the platform's trust store).
    #[cfg(feature = "simulation")]
    pub fn simulated(exchange: std::sync::Arc<dyn Exchange>, request_timeout: Duration) -> Result<Wire, SessionError> {
        static FIRST: std::sync::OnceLock<(reqwest::Client, rustls::ClientConfig)> = std::sync::OnceLock::new();
        let (client, tls) = match FIRST.get() {
            Some(first) => first.clone(),
            None => {
                let wire = Wire::new(request_timeout)?;
                FIRST.get_or_init(|| (wire.client, wire.tls)).clone()
            }
        };
        let connect_timeout = request_timeout;
        Ok(Wire { client, callers: Mutex::new(Vec::new()), tls, connect_timeout, simulated: Some(exchange) })
    }

    /// The client for a call polled here: the library's, or the caller's runtime's own.
    pub fn client(&self) -> Result<reqwest::Client, SessionError> {
        #[cfg(feature = "simulation")]
        if self.simulated.is_some() {
            return Ok(self.client.clone());
        }
        match Handle::try_current() {
            Ok(here) if here.id() != crate::foundation::runtime::library_id() => self.callers_client(here.id()),
            _ => Ok(self.client.clone()),
        }
    }

    fn callers_client(&self, runtime: Id) -> Result<reqwest::Client, SessionError> {
        let mut callers = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, client)) = callers.iter().find(|(id, _)| *id == runtime) {
            return Ok(client.clone());
        }
        // An id may come back with a new runtime: its dead connections are not reused.
        let client = http_client(self.tls.clone(), self.connect_timeout)?;
        if callers.len() == CALLERS_RUNTIMES {
            callers.remove(0);
        }
        callers.push((runtime, client.clone()));
        Ok(client)
    }

    /// Sends `request` and reads the answer's status, headers and body (at most `limit`).
    pub async fn send(&self, request: RequestBuilder, limit: u64) -> Result<Received, WireError> {
        #[cfg(feature = "simulation")]
        if let Some(simulated) = &self.simulated {
            return simulated.exchange(request, limit).await;
        }
        let mut response = request.send().await.map_err(|e| WireError::Failed(SessionError::from_transport(&e)))?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let body = read_capped(response, limit).await.map_err(|e| match e {
            BodyError::TooLarge => WireError::TooLarge,
            BodyError::Transport(e) => WireError::Failed(SessionError::from_transport(&e)),
        })?;
        Ok((status, headers, body))
    }
}

/// A client with the library's TLS and connect timeout, following no redirect (the
/// engine follows them itself, net/redirect.rs). Proxy settings from environment variables
/// are ignored: on a phone they are not the user's, and a proxy would see every
/// plain-http request's token. No overall timeout: each call bounds its own exchange
/// (`execute` with the request's deadline, the refresh with its call limit), so reqwest
/// arms no second timer per request.
fn http_client(tls: rustls::ClientConfig, connect_timeout: Duration) -> Result<reqwest::Client, SessionError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(connect_timeout)
        .redirect(Policy::none())
        .no_proxy()
        .build()
        .map_err(|_| SessionError::InvalidConfig { detail: "the HTTP client could not be built".into() })
}

enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads a response body of at most `limit` bytes: a hostile or broken server must not
/// be able to fill the app's memory.
async fn read_capped(mut response: reqwest::Response, limit: u64) -> Result<Bytes, BodyError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    // Copied into a buffer of its own even when it came in one chunk: a chunk shares the
    // connection's read buffer, which the response must not keep alive.
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
