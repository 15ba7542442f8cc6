//! DPoP against a real provider: panva's oidc-provider (tests/oidc/provider.mjs) with
//! DPoP-bound tokens and nonces required. The app's code exchange carries the session's
//! proof; the session refreshes at the provider's token endpoint and calls its userinfo
//! endpoint (`/me`), which checks the key binding, `ath`, the nonce and replays.
//! Skipped, with a message, where Node.js is not installed.

use std::collections::BTreeMap;
use std::sync::Arc;

use refreshkit::{
    software_dpop_key, DpopKey, ExpiryReason, HttpRequest, Session, SessionConfig, SessionError, SessionEvent,
    SessionState, Tokens,
};
use serde_json::Value;

use crate::helpers::{concurrent_gets, eventually, pkce, MemoryStore, OidcProvider, Recorder};

/// A DPoP session signed in as `alice` through the provider's front channel and code
/// exchange, and the tokens it signed in with.
async fn signed_in(
    provider: &OidcProvider,
    key: Arc<dyn DpopKey>,
) -> (Arc<Session>, Arc<MemoryStore>, Arc<Recorder>, Tokens) {
    signed_in_with(provider, provider.config(), key).await
}

async fn signed_in_with(
    provider: &OidcProvider,
    config: SessionConfig,
    key: Arc<dyn DpopKey>,
) -> (Arc<Session>, Arc<MemoryStore>, Arc<Recorder>, Tokens) {
    let store = Arc::new(MemoryStore::default());
    let recorder = Arc::new(Recorder::default());
    let session = Session::with_dpop(config, store.clone(), key, Some(recorder.clone())).unwrap();
    let tokens = provider.log_in(&session).await;
    assert_eq!(tokens.token_type.as_deref(), Some("DPoP"), "the provider bound the tokens to the key");
    assert!(tokens.refresh_token.is_some(), "offline_access gave a refresh token");
    session.sign_in(tokens.clone()).await.unwrap();
    (session, store, recorder, tokens)
}

/// The counts that changed since `before`.
fn since(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after.iter().map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0))).filter(|(_, v)| *v > 0).collect()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

async fn userinfo_sub(session: &Session) -> String {
    let response = session.execute(HttpRequest::get("/me")).await.unwrap();
    assert_eq!(response.status, 200, "userinfo refused the request: {:?}", response.header("www-authenticate"));
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    body["sub"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_gives_one_dpop_refresh_at_oidc_provider_and_every_request_is_served() {
    let Some(provider) = OidcProvider::start() else { return };
    let (session, store, recorder, first) = signed_in(&provider, software_dpop_key()).await;
    assert_eq!(userinfo_sub(&session).await, "alice");

    provider.expire(&first.access_token).await;
    let before = provider.stats().await;
    let statuses = concurrent_gets(&session, 100, "/me").await;

    assert!(statuses.iter().all(|s| matches!(s, Ok(200))), "every request answered 200: {statuses:?}");
    let changed = since(&before, &provider.stats().await);
    assert_eq!(changed.get("token refresh_token 200"), Some(&1), "exactly one refresh: {changed:?}");
    let expected = ["token refresh_token 200", "userinfo 200", "userinfo 401 invalid_token"];
    assert!(changed.keys().all(|k| expected.contains(&k.as_str())), "no refused proof, no failed refresh: {changed:?}");
    assert_eq!(changed.get("userinfo 200"), Some(&100));
    let saved = store.get().unwrap();
    // Compared, never printed: tokens stay out of the test's output.
    assert!(saved.refresh_token != first.refresh_token, "the rotated refresh token is saved");
    assert!(saved.access_token != first.access_token, "the new access token is saved");
    assert_eq!(saved.token_type.as_deref(), Some("DPoP"));
    assert_eq!(session.metrics().refreshes, 1);
    assert_eq!(session.state(), SessionState::Active);
    let events = recorder.events.lock().unwrap().clone();
    assert_eq!(events, vec![SessionEvent::SignedIn, SessionEvent::Refreshed]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_second_access_tokens_are_refreshed_with_proofs_and_every_request_is_served() {
    let Some(provider) = OidcProvider::start() else { return };
    provider.set_access_ttl(2).await;
    let (session, store, recorder, first) = signed_in(&provider, software_dpop_key()).await;
    assert!(first.expires_at.is_some(), "the provider said when the token expires");

    let mut served = 0;
    eventually("a refresh at the provider", || {
        let (session, provider) = (&session, &provider);
        served += 1;
        async move {
            assert_eq!(userinfo_sub(session).await, "alice");
            provider.stats().await.contains_key("token refresh_token 200")
        }
    })
    .await;

    let stats = provider.stats().await;
    assert_eq!(stats.get("token refresh_token 200"), Some(&session.metrics().refreshes), "{stats:?}");
    assert_eq!(stats.get("userinfo 200"), Some(&served));
    // oidc-provider counts lifetimes in whole seconds: a token may end up to a second
    // before the session expects it to, so a request may meet it expired, and is replayed.
    let expected = [
        "token authorization_code 200",
        "token authorization_code 400 use_dpop_nonce",
        "token refresh_token 200",
        "userinfo 200",
        "userinfo 401 invalid_token",
    ];
    assert!(stats.keys().all(|k| expected.contains(&k.as_str())), "no refused proof, no failed refresh: {stats:?}");
    assert!(store.get().unwrap().refresh_token != first.refresh_token, "the rotated refresh token is saved");
    let events = recorder.events.lock().unwrap().clone();
    assert_eq!(events[0], SessionEvent::SignedIn);
    assert!(events[1..].iter().all(|e| *e == SessionEvent::Refreshed), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_providers_nonce_challenges_are_answered_and_never_taken_for_an_expired_token() {
    let Some(provider) = OidcProvider::start() else { return };
    let key = software_dpop_key();
    let (_first, store, _, _) = signed_in(&provider, key.clone()).await;

    // The app restarts: a new session over the same store and key knows no nonce yet.
    let restarted = Session::with_dpop(provider.config(), store.clone(), key.clone(), None).unwrap();
    let before = provider.stats().await;
    assert_eq!(userinfo_sub(&restarted).await, "alice");
    assert_eq!(
        since(&before, &provider.stats().await),
        counts(&[("userinfo 401 use_dpop_nonce", 1), ("userinfo 200", 1)]),
        "userinfo asked for a nonce once and the request was sent again with it, without a refresh"
    );

    // Restarted again, and the first call is a refresh: the token endpoint asks for a nonce.
    let again = Session::with_dpop(provider.config(), store.clone(), key, None).unwrap();
    let rejected = again.access_token().await.unwrap();
    let before = provider.stats().await;
    let fresh = again.refresh_after_unauthorized(rejected.clone()).await.unwrap();
    assert!(fresh != rejected, "a new access token");
    assert_eq!(
        since(&before, &provider.stats().await),
        counts(&[("token refresh_token 400 use_dpop_nonce", 1), ("token refresh_token 200", 1)]),
        "the refresh was sent again with the nonce, once"
    );
    assert_eq!(userinfo_sub(&again).await, "alice");
    assert_eq!(again.metrics().refreshes, 1);
    assert_eq!((again.state(), restarted.state()), (SessionState::Active, SessionState::Active));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_provider_refuses_requests_without_a_proof_or_with_a_proof_of_another_key() {
    let Some(provider) = OidcProvider::start() else { return };
    let (session, _store, _, tokens) = signed_in(&provider, software_dpop_key()).await;
    let me = provider.url("/me");
    let refused = |response: reqwest::Response| {
        let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
        (response.status().as_u16(), challenge.unwrap_or_default())
    };

    let no_proof = provider.http.get(&me).header("authorization", format!("DPoP {}", tokens.access_token));
    let (status, challenge) = refused(no_proof.send().await.unwrap());
    assert_eq!(status, 400, "a DPoP-bound token without a proof: {challenge}");
    assert!(challenge.contains(r#"error="invalid_request""#), "{challenge}");
    let as_bearer = provider.http.get(&me).bearer_auth(&tokens.access_token);
    assert_eq!(refused(as_bearer.send().await.unwrap()).0, 401, "a DPoP-bound token sent as a bearer token");
    // A proof by the right key, with the nonce, but not over this token (no `ath`).
    let without_ath = session.dpop_proof("GET".into(), me.clone(), None).await.unwrap();
    let request = provider
        .http
        .get(&me)
        .header("authorization", format!("DPoP {}", tokens.access_token))
        .header("dpop", without_ath);
    let (status, challenge) = refused(request.send().await.unwrap());
    assert_eq!(status, 401);
    assert!(challenge.contains(r#"error="invalid_dpop_proof""#), "{challenge}");

    // Tokens copied to another device, whose session signs with its own key.
    let thief =
        Session::with_dpop(provider.config(), Arc::new(MemoryStore::default()), software_dpop_key(), None).unwrap();
    thief.sign_in(tokens.clone()).await.unwrap();
    let before = provider.stats().await;
    assert_eq!(
        thief.execute(HttpRequest::get("/me")).await.map(|r| r.status),
        Err(SessionError::SessionExpired { reason: ExpiryReason::RefreshRejected }),
        "the access token and the refresh token are refused with another key's proofs"
    );
    let changed = since(&before, &provider.stats().await);
    assert_eq!(changed.get("token refresh_token 400 invalid_grant"), Some(&1), "{changed:?}");
    assert_eq!(changed.get("userinfo 200"), None, "{changed:?}");
    assert_eq!(userinfo_sub(&session).await, "alice", "the owner's session still works");

    // The failure issue 14 reported: a code exchanged without a proof.
    let (verifier, challenge) = pkce();
    let code = provider.authorization_code(&challenge).await;
    let (status, _, body) = provider.exchange_code(&code, &verifier, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let proof = session.dpop_proof("POST".into(), provider.url("/token"), None).await.unwrap();
    let (status, _, body) = provider.exchange_code(&code, &verifier, Some(&proof)).await;
    assert_eq!(status, 200, "the same code with a proof is taken: {}", body["error"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_revoked_at_oidc_provider_ends_the_dpop_session_after_one_refused_refresh() {
    let Some(provider) = OidcProvider::start() else { return };
    let (session, store, recorder, tokens) = signed_in(&provider, software_dpop_key()).await;

    // oidc-provider revokes every token of the grant with the access token.
    provider.revoke(&tokens.access_token).await;
    let before = provider.stats().await;

    assert_eq!(
        session.execute(HttpRequest::get("/me")).await.map(|r| r.status),
        Err(SessionError::SessionExpired { reason: ExpiryReason::RefreshRejected })
    );
    assert_eq!(
        since(&before, &provider.stats().await),
        counts(&[("userinfo 401 invalid_token", 1), ("token refresh_token 400 invalid_grant", 1)])
    );
    assert_eq!(session.state(), SessionState::Expired);
    assert!(store.get().is_none(), "the revoked tokens are cleared");
    recorder
        .wait_until(|events| events.contains(&SessionEvent::Expired { reason: ExpiryReason::RefreshRejected }))
        .await;
}

/// A refresh at the provider with `tokens`, as a new session over `key` makes it: the new
/// access token, or why the provider refused.
async fn refreshed_with(
    provider: &OidcProvider,
    tokens: &Tokens,
    key: Arc<dyn DpopKey>,
) -> Result<String, SessionError> {
    let session = Session::with_dpop(provider.config(), Arc::new(MemoryStore::default()), key, None).unwrap();
    session.sign_in(tokens.clone()).await.unwrap();
    session.refresh_after_unauthorized(tokens.access_token.clone()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_with_a_revocation_path_revokes_at_oidc_provider_and_without_one_the_refresh_token_still_works() {
    let Some(provider) = OidcProvider::start() else { return };
    let key = software_dpop_key();
    let (kept, _, _, kept_tokens) = signed_in(&provider, key.clone()).await;
    let mut config = provider.config();
    config.revocation_path = Some("/token/revocation".into());
    let (revoking, store, recorder, revoked_tokens) = signed_in_with(&provider, config, key.clone()).await;

    kept.sign_out().await.unwrap();
    revoking.sign_out().await.unwrap();
    assert_eq!((revoking.state(), store.get()), (SessionState::SignedOut, None));
    eventually("the provider to revoke", || async { provider.stats().await.contains_key("revocation 200") }).await;

    let before = provider.stats().await;
    assert_eq!(
        refreshed_with(&provider, &revoked_tokens, key.clone()).await,
        Err(SessionError::SessionExpired { reason: ExpiryReason::RefreshRejected }),
        "the revoked refresh token is refused"
    );
    let changed = since(&before, &provider.stats().await);
    assert_eq!(changed.get("token refresh_token 400 invalid_grant"), Some(&1), "{changed:?}");
    let fresh = refreshed_with(&provider, &kept_tokens, key).await.expect("the refresh token not revoked still works");
    assert!(fresh != kept_tokens.access_token);
    let stats = provider.stats().await;
    assert_eq!(stats.get("revocation 200"), Some(&1), "one revocation, by the session configured for it: {stats:?}");
    assert!(stats.keys().all(|k| !k.starts_with("revocation 4")), "{stats:?}");
    let events = recorder.events.lock().unwrap().clone();
    assert_eq!(events, vec![SessionEvent::SignedIn, SessionEvent::SignedOut], "no RevocationFailed");
}
