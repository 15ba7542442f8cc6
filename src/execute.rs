//! Sending a request with the session's token: attach, send, detect expiry, wait for
//! the one refresh, replay once. A replay that fails again goes back to the caller as
//! it is, so there are no loops; the refresh call never passes through here.

use std::sync::Arc;

use serde_json::Value;

use crate::config::BodyRule;
use crate::engine::{bump, Engine, Need};
use crate::error::SessionError;
use crate::http::{to_response, HttpRequest, HttpResponse, Prepared};
use crate::tokens::TokenSet;

/// Bodies larger than this are not parsed for the expiry rule.
const MAX_RULE_BODY: usize = 256 * 1024;

impl Engine {
    pub async fn execute(self: Arc<Self>, request: HttpRequest) -> Result<HttpResponse, SessionError> {
        bump(&self.metrics.requests);
        let prepared = Prepared::new(&self.settings, request)?;
        if !prepared.carries_token {
            let _permit = self.permits.acquire().await.map_err(|_| SessionError::Cancelled)?;
            return self.send(&prepared, None).await;
        }
        let (used, response) = self.send_with_token(&prepared, Need::Current).await?;
        if !self.settings.means_expired(response.status, &response.body) {
            return Ok(response);
        }
        log::debug!(target: "refreshkit", "generation {} rejected with {}", used.generation, response.status);
        bump(&self.metrics.replays);
        let (_, replayed) = self.send_with_token(&prepared, Need::Replacing(used.generation)).await?;
        Ok(replayed)
    }

    /// Waits for a usable token (and so for a refresh, without holding a place on the
    /// wire), then for a place among the requests on the wire, then looks at the token
    /// again: a request queued behind others never leaves with a token that was
    /// replaced, or went stale, while it queued.
    async fn send_with_token(
        self: &Arc<Self>,
        request: &Prepared,
        need: Need,
    ) -> Result<(Arc<TokenSet>, HttpResponse), SessionError> {
        let token = self.token_for(need).await?;
        let _permit = self.permits.acquire().await.map_err(|_| SessionError::Cancelled)?;
        let token = self.latest(token).await?;
        let response = self.send(request, Some(&token)).await?;
        Ok((token, response))
    }

    async fn send(&self, request: &Prepared, token: Option<&TokenSet>) -> Result<HttpResponse, SessionError> {
        let mut headers = request.headers.clone();
        if let Some(ts) = token {
            headers.insert(self.settings.header_name.clone(), self.settings.authorization(&ts.tokens.access_token)?);
        }
        let mut builder = self.client.request(request.method.clone(), request.url.clone()).headers(headers);
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().await.map_err(|e| SessionError::from_transport(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| SessionError::from_transport(&e))?;
        Ok(to_response(status, &headers, body))
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
    rule.values.iter().any(|v| *v == found)
}
