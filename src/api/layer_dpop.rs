//! DPoP for requests the app sends itself (the OkHttp interceptor, `AuthorizedURLSession`):
//! the headers a request needs, with a proof made for it, and what the answer means, so
//! the platform layers follow the rules `execute` follows without copying them.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Url;

use crate::api::session::Session;
use crate::dpop::state::{resource_refused_proof, NonceFor};
use crate::foundation::runtime::block_on;
use crate::net::step_up::step_up_challenge_in;
use crate::types::error::SessionError;
use crate::types::http::HttpHeader;

/// What the answer to a request that carried the token means, for the layer that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AnswerMeaning {
    /// The answer is the app's: hand it over.
    Served,
    /// The token expired: get a newer one (`refreshAfterUnauthorized`) and send once more.
    Expired,
    /// The server refused the DPoP proof, and its answer taught what a new proof needs (a
    /// nonce, its clock): send once more, same token, with new `tokenHeadersFor`.
    NewProof,
    /// The server wants a step-up login (`parseStepUpChallenge` reads what it asks
    /// for): hand the answer over, refresh nothing, send nothing again.
    StepUp,
}

#[uniffi::export]
impl Session {
    /// Every header that carries `access_token` on a `method` request to `url`: the token
    /// header, and for a DPoP-bound token a `DPoP` proof made for this method, URL and
    /// token (new each time: ask for every attempt and every redirect hop). Empty when
    /// `url` may not receive the token.
    pub async fn token_headers_for(
        &self,
        method: String,
        url: String,
        access_token: String,
    ) -> Result<Vec<HttpHeader>, SessionError> {
        let engine = Arc::clone(self.engine());
        self.run(async move { engine.layer_headers(&method, &url, &access_token).await }).await
    }

    /// `tokenHeadersFor` for threads that may block (OkHttp's interceptors).
    pub fn token_headers_for_blocking(
        &self,
        method: String,
        url: String,
        access_token: String,
    ) -> Result<Vec<HttpHeader>, SessionError> {
        let engine = Arc::clone(self.engine());
        block_on(async move { engine.layer_headers(&method, &url, &access_token).await })
    }

    /// What the answer to a request to `url` that carried the token means. A DPoP session
    /// learns the server's nonce and clock from every answer given to it here; a proof
    /// the server refused, or a step-up challenge, is never an expired token.
    pub fn answer_means(&self, url: String, status: u16, headers: Vec<HttpHeader>, body: Vec<u8>) -> AnswerMeaning {
        let engine = self.engine();
        let step_up = step_up_challenge_in(status, &headers).is_some();
        let headers = header_map(&headers);
        let learnt = match (&engine.dpop, Url::parse(&url)) {
            (Some(dpop), Ok(url)) => dpop.learn(&url, NonceFor::ResourceServer, &headers, None),
            _ => false,
        };
        if resource_refused_proof(status, &headers) {
            return if learnt { AnswerMeaning::NewProof } else { AnswerMeaning::Served };
        }
        if step_up {
            return AnswerMeaning::StepUp;
        }
        if engine.settings.means_expired(status, &body) {
            AnswerMeaning::Expired
        } else {
            AnswerMeaning::Served
        }
    }
}

fn header_map(headers: &[HttpHeader]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for h in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(h.name.as_str()), HeaderValue::try_from(h.value.as_str()))
        {
            map.append(name, value);
        }
    }
    map
}
