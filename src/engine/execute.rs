//! Sending a request with the session's token: attach, send, detect expiry (a step-up
//! challenge is none), wait for the one refresh, replay once. A replay that fails again
//! goes back to the caller as it is, so there are no loops; the refresh call never
//! passes through here.

use std::sync::Arc;

use tokio::sync::SemaphorePermit;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName};
use reqwest::RequestBuilder;

use crate::dpop::key::DpopKeyError;
use crate::dpop::state::{
    is_dpop_token_type, key_failed, no_key_for_bound_tokens, refused_the_proof, resource_refused_proof, Dpop, NonceFor,
    DPOP_TOKEN_TYPE,
};
use crate::engine::request::{to_response, Prepared};
use crate::engine::settings::authorization_with;
use crate::engine::token_set::TokenSet;
use crate::engine::{bump, Counted, Engine, Need};
use crate::foundation::clock::Instant;
use crate::net::redirect;
use crate::net::redirect::{Hop, MAX_REDIRECTS};
use crate::net::step_up::step_up_challenge_of;
use crate::net::wire::WireError;
use crate::types::error::ExpiryReason;
use crate::types::error::SessionError;
use crate::types::http::{HttpRequest, HttpResponse};

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
        if refused_the_proof(&response) {
            // A DPoP proof the server did not take says nothing of the token's age.
            return Ok(response);
        }
        self.step_up(used.generation, &response)?;
        if !self.settings.means_expired(response.status, &response.body) {
            self.served(used.generation);
            return Ok(response);
        }
        log::debug!(target: "refreshkit", "generation {} rejected with {}", used.generation, response.status);
        bump(&self.metrics.replays);
        let need = Need::Replacing(used.generation);
        let (again, replayed) = self.send_with_token(&prepared, need, Some(used.epoch)).await?;
        self.step_up(again.generation, &replayed)?;
        if !self.settings.means_expired(replayed.status, &replayed.body) {
            self.served(again.generation);
        }
        Ok(replayed)
    }

    /// A step-up challenge goes to the app as an error it can match: the server took the
    /// token (so it served) and wants more of the login behind it, which no refresh gives,
    /// even when its status is one of `expired_statuses`.
    fn step_up(&self, generation: u64, response: &HttpResponse) -> Result<(), SessionError> {
        let Some(challenge) = step_up_challenge_of(response) else { return Ok(()) };
        self.served(generation);
        Err(SessionError::StepUpRequired { challenge })
    }

    /// Waits for a usable token (and so for a refresh), then for a place among the
    /// requests on the wire, then chooses the token again: a request queued behind
    /// others never leaves with a token that was replaced, or went stale, while it
    /// queued. If a refresh started meanwhile, it gives its place back and waits again:
    /// no place on the wire is held by a request that is not on it, so a request that
    /// carries no token never waits behind a refresh. A request belongs to the sign-in it
    /// started under (`epoch`) and is never sent with another's token.
    async fn send_with_token(
        self: &Arc<Self>,
        request: &Prepared,
        need: Need,
        epoch: Option<u64>,
    ) -> Result<(Arc<TokenSet>, HttpResponse), SessionError> {
        // The request's bound covers its time in the queue and on the wire, not the
        // refreshes it waits for: each turn in the queue spends from what is left.
        let (mut epoch, mut left) = (epoch, request.timeout);
        loop {
            let waited = self.token_for(need).await?;
            // The sign-in of the first token this request was given, however often it waits.
            let epoch = *epoch.get_or_insert(waited.epoch);
            if waited.epoch != epoch {
                return Err(SessionError::SessionChanged);
            }
            let queued_at = Instant::now();
            let deadline = queued_at + left;
            let permit = self.place_on_the_wire(deadline).await?;
            let Some(token) = self.token_at_once(need) else {
                drop(permit);
                left = left.saturating_sub(queued_at.elapsed());
                if left.is_zero() {
                    return Err(SessionError::Timeout);
                }
                continue;
            };
            let token = token?;
            if token.epoch != epoch {
                return Err(SessionError::SessionChanged);
            }
            let response = self.send(request, Some(&token), deadline).await?;
            return Ok((token, response));
        }
    }

    /// A place among the requests on the wire, within the request's own deadline: the
    /// request timeout covers queueing too.
    async fn place_on_the_wire(&self, deadline: Instant) -> Result<SemaphorePermit<'_>, SessionError> {
        // A free place is taken without arming a timer (the common case).
        if let Ok(permit) = self.permits.try_acquire() {
            return Ok(permit);
        }
        let _queued = Counted::new(&self.metrics.queued);
        match tokio::time::timeout_at(deadline, self.permits.acquire()).await {
            Ok(permit) => permit.map_err(|_| SessionError::Cancelled),
            Err(_) => Err(SessionError::Timeout),
        }
    }

    /// Sends once, or twice when a resource server refused a DPoP proof for a nonce or a
    /// clock its answer just taught.
    async fn send(
        self: &Arc<Self>,
        request: &Prepared,
        token: Option<&TokenSet>,
        deadline: Instant,
    ) -> Result<HttpResponse, SessionError> {
        // A request whose time ran out in the queue is not sent at all.
        if Instant::now() >= deadline {
            return Err(SessionError::Timeout);
        }
        let attempts = async {
            let key = self.proof_key_for(token)?;
            let mut retried = false;
            loop {
                let headers = self.headers_for(request, token, key).await?;
                let (response, try_again) = self.exchange(request, headers, key).await?;
                if !try_again || retried {
                    return Ok(response);
                }
                retried = true;
            }
        };
        tokio::time::timeout_at(deadline, attempts).await.unwrap_or(Err(SessionError::Timeout))
    }

    /// The key that signs proofs for `token`: `None` for Bearer tokens (and no token).
    pub(crate) fn proof_key_for(&self, token: Option<&TokenSet>) -> Result<Option<&Dpop>, SessionError> {
        match token {
            Some(ts) if is_dpop_token_type(ts.tokens.token_type.as_deref()) => {
                self.dpop.as_ref().map(Some).ok_or_else(no_key_for_bound_tokens)
            }
            _ => Ok(None),
        }
    }

    /// The request's headers with the token: `scheme token`, or with a proof key
    /// `DPoP token` and a proof over this request and token.
    async fn headers_for(
        self: &Arc<Self>,
        request: &Prepared,
        token: Option<&TokenSet>,
        key: Option<&Dpop>,
    ) -> Result<HeaderMap, SessionError> {
        let mut headers = request.headers.clone();
        let Some(ts) = token else { return Ok(headers) };
        let Some(dpop) = key else {
            headers.insert(self.settings.header_name.clone(), ts.header(|t| self.settings.authorization(t))?);
            return Ok(headers);
        };
        let access_token = Some(ts.tokens.access_token.as_str());
        let proof = match dpop.proof(request.method.as_str(), &request.url, access_token, request.timeout).await {
            Ok(proof) => proof,
            Err(DpopKeyError::Gone) => return Err(self.key_gone(ts.epoch).await),
            Err(other) => return Err(key_failed(other)),
        };
        headers.insert(self.settings.header_name.clone(), ts.header(|t| authorization_with(DPOP_TOKEN_TYPE, t))?);
        headers.insert(HeaderName::from_static("dpop"), proof);
        Ok(headers)
    }

    /// The tokens are bound to a key that no longer exists: the session is over.
    pub(crate) async fn key_gone(self: &Arc<Self>, epoch: u64) -> SessionError {
        match self.expire_once(epoch, ExpiryReason::DpopKeyGone).await {
            Err(e) => e,
            // Another process left newer tokens: this request's token is not the one to send.
            Ok(_) => SessionError::SessionChanged,
        }
    }

    /// One exchange, redirects followed: the response, and whether to try again (a
    /// refused proof, and the answer taught the nonce or clock a new proof needs). Every
    /// hop followed may receive the token and carries it (net/redirect.rs), so the answer to
    /// a request with the token always comes from a hop that had it.
    async fn exchange(
        &self,
        request: &Prepared,
        headers: HeaderMap,
        key: Option<&Dpop>,
    ) -> Result<(HttpResponse, bool), SessionError> {
        let body = request.body.clone();
        let mut hop = Hop { method: request.method.clone(), url: request.url.clone(), headers, body };
        let mut redirects = 0;
        loop {
            let sent = crate::foundation::clock::now();
            let (status, answer, body) = self.send_hop(&hop).await?;
            // A proof names one URL: a request that carries one follows no redirect (the
            // app gets the 3xx), so a proof never reaches a URL it was not made for.
            let next = if key.is_none() {
                redirect::next_hop(&self.settings.transport, &self.settings.header_name, &hop, status, &answer)
            } else {
                None
            };
            let Some(next) = next else {
                let learnt = key.is_some_and(|d| d.learn(&hop.url, NonceFor::ResourceServer, &answer, Some(sent)));
                return Ok((to_response(status, &answer, body), learnt && resource_refused_proof(status, &answer)));
            };
            redirects += 1;
            if redirects > MAX_REDIRECTS {
                return Err(SessionError::Network { detail: "too many redirects".into() });
            }
            hop = next;
        }
    }

    /// Sends one hop as it is, following no redirect.
    async fn send_hop(&self, hop: &Hop) -> Result<(u16, HeaderMap, Bytes), SessionError> {
        // Built whole, so reqwest takes our header map as it is instead of merging it
        // into one of its own. No timeout of reqwest's: `send` bounds the whole exchange.
        let mut outgoing = reqwest::Request::new(hop.method.clone(), hop.url.clone());
        *outgoing.headers_mut() = hop.headers.clone();
        *outgoing.body_mut() = hop.body.clone().map(reqwest::Body::from);
        let builder = RequestBuilder::from_parts(self.wire.client()?, outgoing);
        let limit = self.settings.max_response_bytes;
        self.wire.send(builder, limit).await.map_err(|e| match e {
            WireError::TooLarge => SessionError::ResponseTooLarge { limit_bytes: limit },
            WireError::Failed(e) => e,
        })
    }
}
