//! DPoP (RFC 9449) against the auth server run with `--dpop-nonce`: it checks every
//! proof (signature, method, URL, time, replay, token hash, nonce) and binds tokens to
//! the key.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use refreshkit::{
    software_dpop_key, DpopKey, DpopKeyError, ExpiryReason, HttpRequest, Session, SessionConfig, SessionError,
    SessionState, Tokens,
};
use serde_json::{json, Value};

use crate::helpers::{concurrent_gets, AuthServer, MemoryStore};

/// A session with a software key, signed in with tokens bound to that key (the login
/// call carries the session's proof, with the nonce the server asks for).
async fn bound_session(server: &AuthServer, key: Arc<dyn DpopKey>) -> (Arc<Session>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let session = Session::with_dpop(SessionConfig::new(server.base_url()), store.clone(), key, None).unwrap();
    let tokens = server.login_with_proof(&session).await;
    assert_eq!(tokens.token_type.as_deref(), Some("DPoP"), "the server bound the tokens to the key");
    session.sign_in(tokens).await.unwrap();
    (session, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_across_an_expiry_gives_one_refresh_and_valid_proofs_on_every_request() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let (session, _store) = bound_session(&server, software_dpop_key()).await;
    server.expire_all().await;

    let statuses = concurrent_gets(&session, 1000, "/api/resource").await;

    assert!(statuses.iter().all(|s| matches!(s, Ok(200))), "every request answered 200");
    assert_eq!(server.stat("refreshes").await, 1);
    assert_eq!(server.stat("dpop_refused").await, 0, "no proof was refused");
    assert_eq!(server.stat("served").await, 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_nonce_is_learnt_and_used_and_is_never_taken_for_an_expired_token() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let (session, _store) = bound_session(&server, software_dpop_key()).await;

    let challenges = server.stat("nonce_challenges").await;
    server.post_json("/control/dpop-rotate-nonce", Value::Null).await;
    let response = session.execute(HttpRequest::get("/api/resource")).await.unwrap();
    assert_eq!(response.status, 200, "the request was sent again with the new nonce");
    assert_eq!(server.stat("nonce_challenges").await, challenges + 1);
    assert_eq!(server.stat("refresh_requests").await, 0, "a nonce challenge is not an expiry");

    server.post_json("/control/dpop-rotate-nonce", Value::Null).await;
    let rejected = session.access_token().await.unwrap();
    let fresh = session.refresh_after_unauthorized(rejected.clone()).await.unwrap();
    assert_ne!(fresh, rejected);
    assert_eq!(server.stat("nonce_challenges").await, challenges + 2, "the token endpoint asked too");
    assert_eq!(server.stat("refreshes").await, 1, "the refresh call was sent again with the new nonce");
    assert_eq!(session.state(), SessionState::Active);
}

/// Fails before challenges were parsed: the nonce challenge after a Bearer challenge in
/// one `WWW-Authenticate` field was taken for an expired token, and a refresh was spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nonce_challenge_beside_a_bearer_challenge_is_never_taken_for_an_expired_token() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let (session, _store) = bound_session(&server, software_dpop_key()).await;
    server.post_json("/control/dpop-combined-challenges", serde_json::json!({"on": true})).await;
    server.post_json("/control/dpop-rotate-nonce", Value::Null).await;

    let response = session.execute(HttpRequest::get("/api/resource")).await.unwrap();

    assert_eq!(response.status, 200, "the request was sent again with the new nonce");
    assert_eq!(server.stat("refresh_requests").await, 0, "a nonce challenge is not an expiry");
    server.expire_all().await;
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(server.stat("refreshes").await, 1, "an expired token still is one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_proof_and_a_proof_for_another_url_are_refused() {
    let server = AuthServer::start_with(&["--dpop"]);
    let session = Session::with_dpop(
        SessionConfig::new(server.base_url()),
        Arc::new(MemoryStore::default()),
        software_dpop_key(),
        None,
    )
    .unwrap();
    let login = format!("{}/login", server.base_url());
    let proof = session.dpop_proof("POST".into(), login, None).await.unwrap();

    assert_eq!(server.post_with_proof("/login", &proof).await.0, 200);
    assert_eq!(server.post_with_proof("/login", &proof).await.0, 400, "a replayed proof");
    let other = session.dpop_proof("POST".into(), format!("{}/elsewhere", server.base_url()), None).await.unwrap();
    assert_eq!(server.post_with_proof("/login", &other).await.0, 400, "a proof for another URL");
    let get = session.dpop_proof("GET".into(), format!("{}/login", server.base_url()), None).await.unwrap();
    assert_eq!(server.post_with_proof("/login", &get).await.0, 400, "a proof for another method");
    assert_eq!(server.stat("dpop_refused").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_bound_to_another_key_are_refused_and_bearer_tokens_need_no_key() {
    let server = AuthServer::start_with(&["--dpop"]);
    let (bound, _store) = bound_session(&server, software_dpop_key()).await;
    let stolen = bound.access_token().await.unwrap();
    let (thief, _) = bound_session(&server, software_dpop_key()).await;
    let mut with_stolen = Tokens::new(stolen, None, None);
    with_stolen.token_type = Some("DPoP".into());
    thief.sign_in(with_stolen).await.unwrap();
    assert_eq!(
        thief.execute(HttpRequest::get("/api/resource")).await.map(|r| r.status),
        Err(SessionError::SessionExpired { reason: ExpiryReason::NoRefreshToken }),
        "a token bound to another key is refused, and without a refresh token the session ends"
    );

    let plain = AuthServer::start();
    let session = Session::with_dpop(
        SessionConfig::new(plain.base_url()),
        Arc::new(MemoryStore::default()),
        software_dpop_key(),
        None,
    )
    .unwrap();
    session.sign_in(plain.login().await).await.unwrap();
    plain.expire_all().await;
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(plain.stat("refreshes").await, 1, "Bearer tokens refresh as before");
}

/// Fails before: the sign-in was stored, and the first refresh (sent without a proof)
/// got `invalid_grant` and ended the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpop_bound_sign_in_on_a_session_without_a_key_is_refused_and_not_stored() {
    let server = AuthServer::start_with(&["--dpop"]);
    let keyed = Session::with_dpop(
        SessionConfig::new(server.base_url()),
        Arc::new(MemoryStore::default()),
        software_dpop_key(),
        None,
    )
    .unwrap();
    let bound = server.login_with_proof(&keyed).await;
    let store = Arc::new(MemoryStore::default());
    let keyless = Session::new(SessionConfig::new(server.base_url()), store.clone(), None).unwrap();

    let refused = keyless.sign_in(bound).await;

    assert!(
        matches!(&refused, Err(SessionError::InvalidConfig { detail }) if detail.contains("Session::with_dpop")),
        "{refused:?}"
    );
    assert_eq!((store.saves.load(Ordering::SeqCst), store.get()), (0, None), "the store was not written");
    assert_eq!(keyless.restored_state().await, SessionState::SignedOut);
}

/// A key that can be made to vanish, like one lost when a device is restored.
struct VanishingKey {
    inner: Arc<dyn DpopKey>,
    gone: AtomicBool,
}

impl DpopKey for VanishingKey {
    fn public_jwk(&self) -> Result<String, DpopKeyError> {
        self.inner.public_jwk()
    }
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, DpopKeyError> {
        if self.gone.load(Ordering::SeqCst) {
            return Err(DpopKeyError::Gone);
        }
        self.inner.sign(message)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_is_gone_ends_the_session_cleanly() {
    let server = AuthServer::start_with(&["--dpop"]);
    let key = Arc::new(VanishingKey { inner: software_dpop_key(), gone: AtomicBool::new(false) });
    let (session, store) = bound_session(&server, key.clone()).await;
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);

    key.gone.store(true, Ordering::SeqCst);

    let expected = SessionError::SessionExpired { reason: ExpiryReason::DpopKeyGone };
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.map(|r| r.status), Err(expected));
    assert_eq!(session.state(), SessionState::Expired);
    assert!(store.get().is_none(), "the useless tokens are cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_carrying_a_proof_follows_no_redirect() {
    let server = AuthServer::start_with(&["--dpop"]);
    let (session, _store) = bound_session(&server, software_dpop_key()).await;

    let response = session.execute(HttpRequest::get("/redirect?to=/api/resource&status=307")).await.unwrap();

    assert_eq!(response.status, 307, "the app gets the redirect");
    assert_eq!(server.stat("dpop_refused").await, 0, "no proof for /redirect went on to /api/resource");
    assert_eq!(server.stat("served").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_take_the_servers_clock_from_its_answers_when_the_phones_is_off() {
    let server = AuthServer::start_with(&["--dpop"]);
    let (session, _store) = bound_session(&server, software_dpop_key()).await;
    // The server's clock runs ten minutes ahead of this machine's (or the phone's is behind).
    server.post_json("/control/dpop-clock-offset", serde_json::json!({ "secs": 600 })).await;

    let response = session.execute(HttpRequest::get("/api/resource")).await.unwrap();
    assert_eq!(response.status, 200, "sent again with iat on the server's clock");
    assert_eq!(server.stat("dpop_refused").await, 1, "only the first proof, made before the answer's Date");

    server.expire_all().await;
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(server.stat("refreshes").await, 1);
    assert_eq!(server.stat("dpop_refused").await, 1, "the refresh call's proof used the learnt clock");
}

/// Fails when nonces are kept per origin alone: the token endpoint's nonce (RFC 9449
/// section 8) and the resource's (section 9) replaced each other, so each refresh and
/// the requests after it were first refused for the nonce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_and_a_resource_on_one_origin_each_keep_their_own_nonce() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    server.post_json("/control/dpop-separate-nonces", json!({ "on": true })).await;
    let (session, _store) = bound_session(&server, software_dpop_key()).await;
    // The first request learns the resource's nonce (the session only knew the login's),
    // and the first refresh that the token endpoint keeps its own: one challenge each.
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    server.expire_all().await;
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(server.stat("resource_nonce_challenges").await, 1);
    assert_eq!(server.stat("token_nonce_challenges").await, 2, "the login's and the first refresh's");
    server.post_json("/control/reset", Value::Null).await;

    for round in 1..=3 {
        server.expire_all().await;
        let statuses = concurrent_gets(&session, 20, "/api/resource").await;
        assert!(statuses.iter().all(|s| matches!(s, Ok(200))), "round {round}: {statuses:?}");
    }

    let stats = server.stats().await;
    let count = |name: &str| stats[name].as_u64().unwrap();
    let seen = format!(
        "refresh calls {}, token nonce challenges {}, resource nonce challenges {}, refused proofs {}",
        count("refresh_requests"),
        count("token_nonce_challenges"),
        count("resource_nonce_challenges"),
        count("dpop_refused"),
    );
    assert_eq!(count("refreshes"), 3, "{seen}");
    assert_eq!(count("token_nonce_challenges"), 0, "each refresh used the token endpoint's nonce: {seen}");
    assert_eq!(count("resource_nonce_challenges"), 0, "each request used the resource's nonce: {seen}");
    assert_eq!(count("refresh_requests"), 3, "{seen}");
}

/// Fails when the clock is learnt from `Date` alone: a copy a cache held for ten minutes
/// set the proofs' `iat` ten minutes back, and the next proof was refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_a_cache_held_gives_the_servers_clock_as_its_date_plus_its_age() {
    let server = AuthServer::start_with(&["--dpop"]);
    let (session, _store) = bound_session(&server, software_dpop_key()).await;
    server.post_json("/control/dpop-cached-answers", json!({ "age_secs": 600 })).await;

    for _ in 0..3 {
        assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    }
    let statuses = concurrent_gets(&session, 20, "/api/resource").await;
    assert!(statuses.iter().all(|s| matches!(s, Ok(200))), "{statuses:?}");
    server.expire_all().await;
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(server.stat("refreshes").await, 1);
    assert_eq!(server.stat("dpop_refused").await, 0, "no proof was made on a cached answer's Date");

    // The server's clock runs ten minutes ahead: its cached copies' Date is this machine's
    // time, and only Date + Age is the server's.
    server.post_json("/control/dpop-clock-offset", json!({ "secs": 600 })).await;
    for _ in 0..3 {
        assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    }
    assert_eq!(server.stat("dpop_refused").await, 1, "only the proof made before any answer on the new clock");
}

/// Fails when only the request that learns a rotated nonce first is sent again: the
/// others, refused for the same rotation, reached the app as 401s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_refused_for_one_nonce_rotation_is_sent_again_and_served() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let (session, _store) = bound_session(&server, software_dpop_key()).await;

    for _ in 0..3 {
        server.post_json("/control/dpop-rotate-nonce", Value::Null).await;
        let statuses = concurrent_gets(&session, 50, "/api/resource").await;
        assert!(statuses.iter().all(|s| matches!(s, Ok(200))), "{statuses:?}");
    }
    assert_eq!(server.stat("refresh_requests").await, 0, "nonce refusals are not expiries");
}

/// A key that stops answering from its `stall_at`-th signature until released, like a
/// hardware key that hangs.
struct StallingKey {
    inner: Arc<dyn DpopKey>,
    signed: std::sync::atomic::AtomicUsize,
    stall_at: std::sync::atomic::AtomicUsize,
    released: (std::sync::Mutex<bool>, std::sync::Condvar),
}

impl StallingKey {
    fn release(&self) {
        *self.released.0.lock().unwrap() = true;
        self.released.1.notify_all();
    }
}

impl DpopKey for StallingKey {
    fn public_jwk(&self) -> Result<String, DpopKeyError> {
        self.inner.public_jwk()
    }
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, DpopKeyError> {
        if self.signed.fetch_add(1, Ordering::SeqCst) + 1 >= self.stall_at.load(Ordering::SeqCst) {
            let (lock, wake) = &self.released;
            let guard = lock.lock().unwrap();
            // Bounded, so a broken test leaves no thread behind for long.
            let _ = wake.wait_timeout_while(guard, std::time::Duration::from_secs(60), |released| !*released);
        }
        self.inner.sign(message)
    }
}

/// Fails when the refresh's proof had no bound: the refresh stayed under way while the key
/// hung, and every call after it waited for it and timed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_stops_answering_during_a_refresh_fails_that_refresh_and_not_the_session() {
    let server = AuthServer::start_with(&["--dpop"]);
    let key = Arc::new(StallingKey {
        inner: software_dpop_key(),
        signed: Default::default(),
        stall_at: usize::MAX.into(),
        released: Default::default(),
    });
    let store = Arc::new(MemoryStore::default());
    let mut config = SessionConfig::new(server.base_url());
    config.refresh_timeout_ms = 300;
    let session = Session::with_dpop(config, store, key.clone(), None).unwrap();
    session.sign_in(server.login_with_proof(&session).await).await.unwrap();
    server.expire_all().await;
    // The request's own proof is signed; the refresh's (the next) hangs.
    key.stall_at.store(key.signed.load(Ordering::SeqCst) + 2, Ordering::SeqCst);

    let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();

    assert!(matches!(&error, SessionError::DpopKey { detail } if detail.contains("did not sign")), "{error:?}");
    assert_eq!(session.state(), SessionState::Active, "the refresh ended while the key still hung");
    key.release();
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200, "the next call refreshes");
    assert_eq!(server.stat("refreshes").await, 1);
}
