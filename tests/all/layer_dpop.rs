//! What the platform layers (OkHttp, URLSession) ask of the core for DPoP: the headers
//! for one request, with a proof made for it, and what an answer means. Driven here as a
//! layer would drive it, with reqwest sending the requests, against the auth server with
//! `--dpop-nonce`.

use std::sync::Arc;

use refreshkit::{
    software_dpop_key, AnswerMeaning, HttpHeader, Session, SessionConfig, SessionError, TokenLease,
};
use serde_json::Value;

use crate::helpers::{AuthServer, MemoryStore};

async fn bound_session(server: &AuthServer) -> Arc<Session> {
    let store = Arc::new(MemoryStore::default());
    let session = Session::with_dpop(SessionConfig::new(server.base_url()), store, software_dpop_key(), None).unwrap();
    let tokens = server.login_with_proof(&session).await;
    session.sign_in(tokens).await.unwrap();
    session
}

/// One request as a layer sends it: the core's headers, then the core's reading of the
/// answer.
async fn send(session: &Session, lease: &TokenLease, url: &str) -> (u16, AnswerMeaning) {
    let headers = session.token_headers_for("GET".into(), url.into(), lease.access_token.clone()).await.unwrap();
    let mut request = reqwest::Client::new().get(url);
    for h in &headers {
        request = request.header(&h.name, &h.value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let answered: Vec<HttpHeader> = response
        .headers()
        .iter()
        .map(|(n, v)| HttpHeader { name: n.as_str().into(), value: v.to_str().unwrap_or_default().into() })
        .collect();
    let body = response.bytes().await.unwrap().to_vec();
    (status, session.answer_means(url.into(), status, answered, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layers_request_with_a_dpop_token_carries_a_new_proof_each_time_and_is_served() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let session = bound_session(&server).await;
    let lease = session.access_token_lease().await.unwrap();
    assert!(lease.needs_proof);
    let url = format!("{}/api/resource", server.base_url());

    let headers = session.token_headers_for("GET".into(), url.clone(), lease.access_token.clone()).await.unwrap();
    let again = session.token_headers_for("GET".into(), url.clone(), lease.access_token.clone()).await.unwrap();
    assert_eq!(headers[0].value, format!("DPoP {}", lease.access_token));
    assert_eq!(headers[1].name, "DPoP");
    assert_ne!(headers[1].value, again[1].value, "a proof is made for one request");

    assert_eq!(send(&session, &lease, &url).await, (200, AnswerMeaning::Served));
    assert_eq!(server.stat("dpop_refused").await, 0);
}

/// Fails when the layer's answer reading ignores the challenge: a nonce request would
/// refresh the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_servers_nonce_means_a_new_proof_never_an_expired_token() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let session = bound_session(&server).await;
    let lease = session.access_token_lease().await.unwrap();
    let url = format!("{}/api/resource", server.base_url());

    server.post_json("/control/dpop-rotate-nonce", Value::Null).await;
    assert_eq!(send(&session, &lease, &url).await, (401, AnswerMeaning::NewProof));
    assert_eq!(send(&session, &lease, &url).await, (200, AnswerMeaning::Served), "the new proof has the new nonce");
    assert_eq!(server.stat("refresh_requests").await, 0);

    server.expire_all().await;
    assert_eq!(send(&session, &lease, &url).await, (401, AnswerMeaning::Expired), "an expired token still is one");
}

/// `WWW-Authenticate: Bearer realm="api", DPoP algs="ES256", error="use_dpop_nonce"`: two
/// challenges in one field (RFC 9110 section 11.6.1). Fails before challenges were
/// parsed: the field starts with Bearer, so the answer meant `Expired`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nonce_challenge_beside_a_bearer_challenge_in_one_field_means_a_new_proof() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let session = bound_session(&server).await;
    let lease = session.access_token_lease().await.unwrap();
    let url = format!("{}/api/resource", server.base_url());
    server.post_json("/control/dpop-combined-challenges", serde_json::json!({"on": true})).await;

    server.post_json("/control/dpop-rotate-nonce", Value::Null).await;
    assert_eq!(send(&session, &lease, &url).await, (401, AnswerMeaning::NewProof));
    assert_eq!(send(&session, &lease, &url).await, (200, AnswerMeaning::Served));

    server.expire_all().await;
    let expired = send(&session, &lease, &url).await;
    assert_eq!(expired, (401, AnswerMeaning::Expired), "DPoP error=\"invalid_token\" is an expired token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_headers_and_no_proof_for_a_url_that_may_not_receive_the_token() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let session = bound_session(&server).await;
    let token = session.access_token().await.unwrap();

    for url in ["https://elsewhere.example/api", "http://example.com/api"] {
        let headers = session.token_headers_for("GET".into(), url.into(), token.clone()).await.unwrap();
        assert!(headers.is_empty(), "{url} got {headers:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_another_sign_in_gets_no_proof() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let session = bound_session(&server).await;
    let first = session.access_token().await.unwrap();
    session.sign_in(server.login_with_proof(&session).await).await.unwrap();

    let url = format!("{}/api/resource", server.base_url());
    let error = session.token_headers_for("GET".into(), url, first).await.unwrap_err();
    assert_eq!(error, SessionError::SessionChanged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_gets_its_one_header_and_no_proof() {
    let server = AuthServer::start();
    let session = Session::new(SessionConfig::new(server.base_url()), Arc::new(MemoryStore::default()), None).unwrap();
    session.sign_in(server.login().await).await.unwrap();
    let lease = session.access_token_lease().await.unwrap();
    assert!(!lease.needs_proof);
    let url = format!("{}/api/resource", server.base_url());

    let headers = session.token_headers_for("GET".into(), url.clone(), lease.access_token.clone()).await.unwrap();
    assert_eq!(headers, vec![HttpHeader { name: "authorization".into(), value: format!("Bearer {}", lease.access_token) }]);
    assert_eq!(send(&session, &lease, &url).await, (200, AnswerMeaning::Served));
    server.expire_all().await;
    assert_eq!(send(&session, &lease, &url).await, (401, AnswerMeaning::Expired));
}
