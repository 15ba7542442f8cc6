//! Where requests leave the engine: the API call and the refresh call both go through
//! `Wire::send`. In production that is reqwest, always; the simulation (a non-default
//! feature) hands the built request to its own world instead, so the engine it runs is
//! the real one up to the socket.

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::RequestBuilder;

use crate::error::SessionError;
use crate::http::{read_capped, BodyError};

pub(crate) struct Wire {
    /// Follows no redirect: the refresh token is only ever posted to the configured
    /// endpoint, and `execute` follows redirects itself, deciding the token per hop.
    client: reqwest::Client,
    #[cfg(feature = "simulation")]
    pub world: Option<std::sync::Arc<dyn crate::simulation::World>>,
}

/// How an exchange failed, before the caller names it.
pub(crate) enum WireError {
    /// The body is larger than the caller's limit.
    TooLarge,
    Failed(SessionError),
}

impl Wire {
    pub fn new(client: reqwest::Client) -> Wire {
        Wire {
            client,
            #[cfg(feature = "simulation")]
            world: None,
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `request` and reads the answer's status, headers and body (at most `limit`).
    pub async fn send(&self, request: RequestBuilder, limit: u64) -> Result<(u16, HeaderMap, Bytes), WireError> {
        #[cfg(feature = "simulation")]
        if let Some(world) = &self.world {
            return crate::simulation::exchange(world.as_ref(), request, limit).await;
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
