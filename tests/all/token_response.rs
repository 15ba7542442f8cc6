//! Tokens from a token endpoint's answer, so apps that sign in themselves never compute
//! `expires_at` by hand.

use std::time::{Duration, SystemTime};

use refreshkit::{tokens_from_token_response, HttpRequest, SessionError};
use serde_json::{json, Value};

use crate::helpers::{session_with, AuthServer, MemoryStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_answer_becomes_tokens_whose_expiry_counts_from_receipt_and_signs_in() {
    let server = AuthServer::start();
    let answer = server.login_answer().await;
    let json: Value = serde_json::from_slice(&answer).unwrap();
    let lifetime = Duration::from_secs(json["expires_in"].as_u64().unwrap());

    let before = SystemTime::now();
    let tokens = tokens_from_token_response(answer).unwrap();
    let after = SystemTime::now();

    assert_eq!(tokens.access_token, json["access_token"].as_str().unwrap());
    assert_eq!(tokens.refresh_token.as_deref(), json["refresh_token"].as_str());
    let expires_at = tokens.expires_at.expect("expires_in was given");
    assert!(before + lifetime <= expires_at && expires_at <= after + lifetime, "counted from receipt");
    let (session, _) = session_with(&server, std::sync::Arc::new(MemoryStore::default()), |_| {});
    session.sign_in(tokens).await.unwrap();
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
}

#[test]
fn every_field_of_a_standard_answer_is_kept_and_a_numeric_string_expiry_is_read() {
    let answer = json!({
        "access_token": "at-1", "refresh_token": "rt-1", "expires_in": "3600",
        "id_token": "id-1", "scope": "openid api", "token_type": "DPoP"
    });
    let tokens = tokens_from_token_response(answer.to_string().into_bytes()).unwrap();
    assert_eq!(tokens.refresh_token.as_deref(), Some("rt-1"));
    assert_eq!(tokens.id_token.as_deref(), Some("id-1"));
    assert_eq!(tokens.scope.as_deref(), Some("openid api"));
    assert_eq!(tokens.token_type.as_deref(), Some("DPoP"));
    let left = tokens.expires_at.unwrap().duration_since(SystemTime::now()).unwrap();
    assert!(left > Duration::from_secs(3590) && left <= Duration::from_secs(3600), "{left:?}");

    let without_expiry = tokens_from_token_response(br#"{"access_token": "at-2"}"#.to_vec()).unwrap();
    assert_eq!((without_expiry.refresh_token, without_expiry.expires_at), (None, None));
}

#[test]
fn what_is_not_a_token_response_is_an_invalid_response_that_never_shows_a_token() {
    for body in [
        b"<html>login</html>".to_vec(),
        br#"{"error": "invalid_grant"}"#.to_vec(),
        br#"{"access_token": ""}"#.to_vec(),
        br#"{"access_token": "secret-token with a space"}"#.to_vec(),
        br#"{"access_token": "ok", "refresh_token": "secret-refresh\u0000"}"#.to_vec(),
    ] {
        let error = tokens_from_token_response(body.clone()).unwrap_err();
        assert!(matches!(error, SessionError::InvalidResponse { .. }), "{error:?}");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
