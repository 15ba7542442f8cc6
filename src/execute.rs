//! Sending a request with the session's token: attach, send, detect expiry, wait for
//! the one refresh, replay once. A replay that fails again goes back to the caller as
//! it is, so there are no loops; the refresh call never passes through here.

use std::sync::Arc;

use tokio::sync::SemaphorePermit;

use serde_json::Value;

use crate::clock::Instant;
use crate::config::BodyRule;
use crate::engine::{bump, Engine, Need};
use crate::error::SessionError;
use crate::http::{to_response, HttpRequest, HttpResponse, Prepared};
use crate::tokens::TokenSet;
use crate::wire::WireError;

/// Bodies larger than this are not parsed for the expiry rule.
const MAX_RULE_BODY: usize = 256 * 1024;

impl Engine {
    pub async fn execute(self: Arc<Self>, request: HttpRequest) -> Result<HttpResponse, SessionError> {
        bump(&self.metrics.requests);
        let prepared = Prepared::new(&self.settings, request)?;
        if !prepared.carries_token {
            let deadline = Instant::now() + prepared.timeout;
            let _permit = self.place_on_the_wire(deadline).await?;
            return self.send(&prepared, None, deadline).await;
        }
        let (used, response) = self.send_with_token(&prepared, Need::Current, None).await?;
        if !self.settings.means_expired(response.status, &response.body) {
            self.served(used.generation);
            return Ok(response);
        }
        log::debug!(target: "refreshkit", "generation {} rejected with {}", used.generation, response.status);
        bump(&self.metrics.replays);
        let need = Need::Replacing(used.generation);
        let (again, replayed) = self.send_with_token(&prepared, need, Some(used.epoch)).await?;
        if !self.settings.means_expired(replayed.status, &replayed.body) {
            self.served(again.generation);
        }
        Ok(replayed)
    }

    /// Waits for a usable token (and so for a refresh, without holding a place on the
    /// wire), then for a place among the requests on the wire, then chooses the token
    /// again: a request queued behind others never leaves with a token that was
    /// replaced, or went stale, while it queued. A request belongs to the sign-in it
    /// started under (`epoch`) and is never sent with another's token.
    async fn send_with_token(
        self: &Arc<Self>,
        request: &Prepared,
        need: Need,
        epoch: Option<u64>,
    ) -> Result<(Arc<TokenSet>, HttpResponse), SessionError> {
        let waited = self.token_for(need).await?;
        let epoch = epoch.unwrap_or(waited.epoch);
        if waited.epoch != epoch {
            return Err(SessionError::SessionChanged);
        }
        let deadline = Instant::now() + request.timeout;
        let _permit = self.place_on_the_wire(deadline).await?;
        let token = self.token_for(need).await?;
        if token.epoch != epoch {
            return Err(SessionError::SessionChanged);
        }
        let response = self.send(request, Some(&token), deadline).await?;
        Ok((token, response))
    }

    /// A place among the requests on the wire, within the request's own deadline: the
    /// request timeout covers queueing too.
    async fn place_on_the_wire(&self, deadline: Instant) -> Result<SemaphorePermit<'_>, SessionError> {
        match tokio::time::timeout_at(deadline, self.permits.acquire()).await {
            Ok(permit) => permit.map_err(|_| SessionError::Cancelled),
            Err(_) => Err(SessionError::Timeout),
        }
    }

    async fn send(
        &self,
        request: &Prepared,
        token: Option<&TokenSet>,
        deadline: Instant,
    ) -> Result<HttpResponse, SessionError> {
        let mut headers = request.headers.clone();
        if let Some(ts) = token {
            headers.insert(self.settings.header_name.clone(), self.settings.authorization(&ts.tokens.access_token)?);
        }
        let mut builder = self
            .wire
            .api()
            .request(request.method.clone(), request.url.clone())
            .headers(headers)
            .timeout(request.timeout);
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let limit = self.settings.max_response_bytes;
        let exchange = async {
            let (status, headers, body) = self.wire.send(builder, limit).await.map_err(|e| match e {
                WireError::TooLarge => SessionError::ResponseTooLarge { limit_bytes: limit },
                WireError::Failed(e) => e,
            })?;
            Ok(to_response(status, &headers, body))
        };
        tokio::time::timeout_at(deadline, exchange).await.unwrap_or(Err(SessionError::Timeout))
    }
}

/// Whether `body` is JSON whose value at the rule's pointer is one of its values.
pub(crate) fn body_matches(rule: &BodyRule, body: &[u8]) -> bool {
    if body.is_empty() || body.len() > MAX_RULE_BODY {
        return false;
    }
    let Ok(json) = serde_json::from_slice::<Value>(body) else { return false };
    let found = match json.pointer(&rule.pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
        _ => return false,
    };
    rule.values.contains(&found)
}
