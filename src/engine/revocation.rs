//! Revocation at sign-out (RFC 7009), when the app configures a revocation endpoint:
//! after the local sign-out, the signed-out tokens are revoked at the provider in the
//! background. Best effort and bounded: it never delays, fails or undoes the sign-out;
//! a failure is logged (without the token) and heard as `RevocationFailed`.

use std::sync::Arc;

use reqwest::Url;
use serde_json::Value;

use crate::dpop::state::{is_dpop_token_type, key_failed};
use crate::engine::events::SessionEvent;
use crate::engine::protocol::{post_with_proof, short, ClientAuth, PostFailure};
use crate::engine::Engine;
use crate::net::wire::WireError;
use crate::types::tokens::Tokens;

impl Engine {
    /// Revokes `tokens` (the ones just signed out, captured before the new epoch, so
    /// never a later sign-in's) at the revocation endpoint, if one is configured, in a
    /// task of the library's runtime that ends within the request timeout.
    pub(crate) fn revoke_in_background(self: &Arc<Self>, tokens: Tokens) {
        let Some(url) = self.settings.revocation_url.clone() else { return };
        let engine = Arc::clone(self);
        crate::foundation::runtime::spawn_detached(async move {
            let bound = engine.settings.request_timeout;
            let outcome = match tokio::time::timeout(bound, engine.revoke(&url, &tokens)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("the revocation endpoint did not answer within {bound:?}")),
            };
            match outcome {
                Ok(()) => log::info!(target: "refreshkit", "the signed-out tokens were revoked at the provider"),
                Err(detail) => {
                    log::warn!(target: "refreshkit", "revoking the signed-out tokens failed: {detail}");
                    engine.events.emit(SessionEvent::RevocationFailed { detail });
                }
            }
        });
    }

    /// One revocation request (RFC 7009 section 2.1), with a DPoP proof for tokens bound
    /// to the session's key (some servers want one for a public client's bound tokens).
    async fn revoke(&self, url: &Url, tokens: &Tokens) -> Result<(), String> {
        let client_auth = ClientAuth::of(&self.settings.protocol).ok_or("no OAuth 2.0 client to revoke as")?;
        let (token, hint) = token_to_revoke(tokens);
        let build = |client: &reqwest::Client| {
            let form = vec![("token", token), ("token_type_hint", hint)];
            client_auth.form_post(client, url, form).timeout(self.settings.request_timeout)
        };
        let dpop = self.dpop.as_ref().filter(|_| is_dpop_token_type(tokens.token_type.as_deref()));
        let within = self.settings.request_timeout;
        let (status, _, body) = post_with_proof(&self.wire, url, dpop, within, build).await.map_err(|e| match e {
            PostFailure::Key(e) => key_failed(e).to_string(),
            PostFailure::Wire(WireError::TooLarge) => "the revocation endpoint's answer is larger than 64 KiB".into(),
            PostFailure::Wire(WireError::Failed(e)) => e.to_string(),
        })?;
        revocation_answer(status, &body)
    }
}

/// The refresh token, whose revocation ends the grant (RFC 7009 section 2.1: the server
/// should then also end its access tokens); the access token when there is none.
fn token_to_revoke(tokens: &Tokens) -> (&str, &'static str) {
    match &tokens.refresh_token {
        Some(refresh_token) => (refresh_token, "refresh_token"),
        None => (&tokens.access_token, "access_token"),
    }
}

/// RFC 7009 section 2.2: 200 means revoked (or already invalid); anything else did not
/// revoke, and says why in OAuth's words when it can.
fn revocation_answer(status: u16, body: &[u8]) -> Result<(), String> {
    if (200..=299).contains(&status) {
        return Ok(());
    }
    let code = serde_json::from_slice::<Value>(body).ok().and_then(|v| v.get("error")?.as_str().map(short));
    Err(match code {
        Some(code) => format!("the revocation endpoint answered {status} ({code})"),
        None => format!("the revocation endpoint answered {status}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refresh_token_is_revoked_and_the_access_token_only_without_one() {
        let with_refresh = Tokens::new("at", Some("rt".into()), None);
        assert_eq!(token_to_revoke(&with_refresh), ("rt", "refresh_token"));
        let access_only = Tokens::new("at", None, None);
        assert_eq!(token_to_revoke(&access_only), ("at", "access_token"));
    }

    #[test]
    fn only_a_2xx_answer_is_a_revocation() {
        assert_eq!(revocation_answer(200, b""), Ok(()));
        assert_eq!(
            revocation_answer(400, br#"{"error":"unsupported_token_type"}"#),
            Err("the revocation endpoint answered 400 (unsupported_token_type)".into())
        );
        assert_eq!(revocation_answer(503, b"<html>"), Err("the revocation endpoint answered 503".into()));
    }
}
