//! The headers a request the app sends itself needs (the OkHttp interceptor,
//! `AuthorizedURLSession`): the token header, and for a DPoP-bound token a proof made
//! for that request, by the same rules `execute` follows.

use std::sync::Arc;

use reqwest::header::HeaderValue;
use reqwest::{Method, Url};

use crate::dpop::key::DpopKeyError;
use crate::dpop::state::{key_failed, DPOP_TOKEN_TYPE};
use crate::engine::settings::authorization_with;
use crate::engine::Engine;
use crate::types::error::SessionError;
use crate::types::http::HttpHeader;

impl Engine {
    pub(crate) async fn layer_headers(
        self: &Arc<Self>,
        method: &str,
        url: &str,
        access_token: &str,
    ) -> Result<Vec<HttpHeader>, SessionError> {
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
