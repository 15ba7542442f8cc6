use std::sync::Arc;

use refreshkit::{BodyRule, HttpRequest, RefreshProtocol, Session, SessionConfig, SessionError};

use crate::helpers::{session_with, AuthServer, MemoryStore};

fn build(config: SessionConfig) -> Result<Arc<Session>, SessionError> {
    Session::new(config, Arc::new(MemoryStore::default()), None)
}

fn invalid_config(config: SessionConfig) -> bool {
    matches!(build(config), Err(SessionError::InvalidConfig { .. }))
}

#[test]
fn bad_configurations_get_a_typed_error() {
    assert!(invalid_config(SessionConfig::new("")));
    assert!(invalid_config(SessionConfig::new("not a url")));
    assert!(invalid_config(SessionConfig::new("ftp://example.com")));
    assert!(invalid_config(SessionConfig::new("http://example.com")), "plain http to a remote host");
    let mut c = SessionConfig::new("https://example.com");
    c.header_name = "bad header".into();
    assert!(invalid_config(c));
    let mut c = SessionConfig::new("https://example.com");
    c.expired_body_rule = Some(BodyRule { pointer: "code".into(), values: vec![] });
    assert!(invalid_config(c));
    let mut c = SessionConfig::new("https://example.com");
    c.refresh_timeout_ms = 0;
    assert!(invalid_config(c));
    let mut c = SessionConfig::new("https://example.com");
    c.expired_statuses = Some(vec![99]);
    assert!(invalid_config(c));
}

#[test]
fn a_revocation_path_is_checked_like_the_refresh_path_and_needs_oauth() {
    let revoking_at = |path: &str| {
        let mut c = SessionConfig::new("https://example.com");
        c.revocation_path = Some(path.into());
        c
    };
    assert!(build(revoking_at("/oauth/revoke")).is_ok());
    assert!(build(revoking_at("https://auth.example.com/revoke")).is_ok());
    assert!(invalid_config(revoking_at("http://example.com/revoke")), "plain http to a remote host");
    assert!(invalid_config(revoking_at("https://user:pw@example.com/revoke")));
    assert!(invalid_config(revoking_at("http://[bad")));
    let mut json = revoking_at("/oauth/revoke");
    json.refresh_protocol = Some(RefreshProtocol::Json {
        refresh_token_field: "refreshToken".into(),
        extra_fields: Default::default(),
        access_token_pointer: "/token".into(),
        refresh_token_pointer: None,
        expires_in_pointer: None,
    });
    assert!(invalid_config(json), "RFC 7009 has no JSON dialect");
}

#[test]
fn plain_http_is_allowed_on_loopback_or_when_asked() {
    assert!(build(SessionConfig::new("http://127.0.0.1:1")).is_ok());
    assert!(build(SessionConfig::new("http://localhost:1")).is_ok());
    assert!(build(SessionConfig::new("http://[::1]:1")).is_ok());
    let mut c = SessionConfig::new("http://example.com");
    c.allow_insecure_http = true;
    assert!(build(c).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_typed_error_and_send_nothing() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    session.sign_in(server.login().await).await.unwrap();
    let bad = [
        HttpRequest::get(""),
        HttpRequest::get("http://[bad"),
        HttpRequest::get("http://example.com/over-plain-http"),
        HttpRequest { method: "GE T".into(), ..HttpRequest::get("/api/resource") },
        HttpRequest {
            headers: vec![refreshkit::HttpHeader { name: "X-Bad".into(), value: "line\nbreak".into() }],
            ..HttpRequest::get("/api/resource")
        },
        HttpRequest { timeout_ms: Some(0), ..HttpRequest::get("/api/resource") },
    ];
    for request in bad {
        let error = session.execute(request.clone()).await.unwrap_err();
        assert!(matches!(error, SessionError::InvalidRequest { .. }), "{request:?} gave {error:?}");
    }
    assert_eq!(server.stat("served").await + server.stat("rejected").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_before_sign_in_fail_with_not_signed_in() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap_err(), SessionError::NotSignedIn);
    assert_eq!(session.access_token().await.unwrap_err(), SessionError::NotSignedIn);
    let empty = refreshkit::Tokens::new("", None, None);
    assert!(matches!(session.sign_in(empty).await, Err(SessionError::InvalidRequest { .. })));
}
