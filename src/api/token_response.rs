//! Tokens from a standard OAuth 2.0 token response, for apps whose own login (the
//! authorization-code exchange, a device or password grant) gets the tokens to hand to
//! `sign_in`: one parser, the refresh call's, for every language.

use crate::engine::protocol::{parse_answer, RefreshFailure};
use crate::engine::settings::RefreshProtocol;
use crate::foundation::clock;
use crate::types::error::SessionError;
use crate::types::tokens::Tokens;

/// The tokens of a token endpoint's success answer (RFC 6749 section 5.1): `access_token`,
/// `refresh_token`, `expires_in` (a number or a numeric string, counted from now: call
/// this when the answer arrives), `id_token`, `scope` and `token_type`. `body` is the
/// answer's JSON as received. Fails with `InvalidResponse` when it is not JSON, is an OAuth
/// error, has no access token, or holds a token no header can carry; the error never
/// contains a token.
#[uniffi::export]
pub fn tokens_from_token_response(body: Vec<u8>) -> Result<Tokens, SessionError> {
    let oauth = RefreshProtocol::OAuth2 { client_id: None, client_secret: None, scope: None, basic_auth: false };
    match parse_answer(&oauth, 200, &body, clock::now()) {
        Ok(tokens) => Ok(tokens),
        Err(RefreshFailure::Transient(e)) => Err(e),
        // A 200 is never read as a refusal.
        Err(_) => Err(SessionError::InvalidResponse { detail: "not a token response".into() }),
    }
}
