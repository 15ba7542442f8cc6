//! DPoP for requests the app sends itself (the OkHttp interceptor, `AuthorizedURLSession`):
//! the headers a request needs, with a proof made for it, and what the answer means, so
//! the platform layers follow the rules `execute` follows without copying them.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use crate::config::authorization_with;
use crate::dpop::DpopKeyError;
use crate::dpop_session::{key_failed, resource_refused_proof, NonceFor, DPOP_TOKEN_TYPE};
use crate::engine::Engine;
use crate::error::SessionError;
use crate::http::HttpHeader;
use crate::runtime::block_on;
use crate::session::Session;

/// What the answer to a request that carried the token means, for the layer that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AnswerMeaning {
    /// The answer is the app's: hand it over.
    Served,
    /// The token expired: get a newer one (`refresh_after_unauthorized`) and send once more.
    Expired,
    /// The server refused the DPoP proof, and its answer taught what a new proof needs (a
    /// nonce, its clock): send once more, same token, with new `token_headers_for`.
    NewProof,
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

    /// `token_headers_for` for threads that may block (OkHttp's interceptors).
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
    /// the server refused is never an expired token.
    pub fn answer_means(&self, url: String, status: u16, headers: Vec<HttpHeader>, body: Vec<u8>) -> AnswerMeaning {
        let engine = self.engine();
        let headers = header_map(&headers);
        let learnt = match (&engine.dpop, Url::parse(&url)) {
            (Some(dpop), Ok(url)) => dpop.learn(&url, NonceFor::ResourceServer, &headers, None),
            _ => false,
        };
        if resource_refused_proof(status, &headers) {
            return if learnt { AnswerMeaning::NewProof } else { AnswerMeaning::Served };
        }
        if engine.settings.means_expired(status, &body) {
            AnswerMeaning::Expired
        } else {
            AnswerMeaning::Served
        }
    }
}

impl Engine {
    async fn layer_headers(self: &Arc<Self>, method: &str, url: &str, access_token: &str) -> Result<Vec<HttpHeader>, SessionError> {
        let invalid = |detail: &str| SessionError::InvalidRequest { detail: detail.into() };
        let url = Url::parse(url).map_err(|_| invalid("the URL is not valid"))?;
        if !self.settings.transport.allows_token(&url) {
            return Ok(Vec::new());
        }
        let name = self.settings.header_name.as_str().to_owned();
        // Only a token of this sign-in is sent; its type says whether it needs a proof (and
        // a DPoP token without a key is `InvalidConfig`, as for `execute`).
        let token = self.lock().held_token(access_token).cloned().ok_or(SessionError::SessionChanged)?;
        let Some(key) = self.proof_key_for(Some(&token))? else {
            let value = self.settings.authorization(access_token)?;
            return Ok(vec![HttpHeader { name, value: text(&value) }]);
        };
        let method = Method::from_bytes(method.as_bytes()).map_err(|_| invalid("the method is not valid"))?;
        let proof = match key.proof(method.as_str(), &url, Some(access_token), self.settings.request_timeout).await {
            Ok(proof) => proof,
            Err(DpopKeyError::Gone) => return Err(self.key_gone(token.epoch).await),
            Err(other) => return Err(key_failed(other)),
        };
        let value = authorization_with(DPOP_TOKEN_TYPE, access_token)?;
        Ok(vec![HttpHeader { name, value: text(&value) }, HttpHeader { name: "DPoP".into(), value: text(&proof) }])
    }
}

fn text(value: &HeaderValue) -> String {
    value.to_str().unwrap_or_default().to_owned()
}

fn header_map(headers: &[HttpHeader]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for h in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(h.name.as_str()), HeaderValue::try_from(h.value.as_str())) {
            map.append(name, value);
        }
    }
    map
}
