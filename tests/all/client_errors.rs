//! Only the user's session ending ends the session: the app's own configuration
//! mistakes (client credentials, scope) keep the tokens and get an error of their own.

use refreshkit::{HttpRequest, SessionError, SessionEvent, SessionState};
use serde_json::json;

use crate::helpers::{signed_in_then_expired, Expired};

async fn assert_client_error_keeps_the_session(status: u16, code: &str) {
    let Expired { server, store, session, recorder, first } = signed_in_then_expired().await;
    server.fault(json!({"kind": "answer", "status": status, "body": {"error": code}})).await;

    let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();

    assert_eq!(error, SessionError::ClientRejected { detail: code.into() });
    assert!(!error.is_retryable());
    assert_eq!(session.state(), SessionState::Active);
    assert_eq!(store.get(), Some(first), "the refresh token is kept");
    recorder.wait_until(|e| e.contains(&SessionEvent::ClientRejected { detail: code.into() })).await;
    assert!(!recorder.events.lock().unwrap().iter().any(|e| matches!(e, SessionEvent::Expired { .. })));
    // Once the app's configuration is fixed (here: the fault is gone), the same tokens work.
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
}

/// Fails before client errors were told apart: the session expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_client_keeps_the_tokens_and_reports_a_client_error() {
    assert_client_error_keeps_the_session(401, "invalid_client").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_scope_keeps_the_tokens_and_reports_a_client_error() {
    assert_client_error_keeps_the_session(400, "invalid_scope").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_client_keeps_the_tokens_and_reports_a_client_error() {
    assert_client_error_keeps_the_session(400, "unauthorized_client").await;
}

/// A token endpoint that accepts only `client_secret_basic` (RFC 6749 section 2.3.1):
/// credentials with characters that must be form-urlencoded, in the header, not the form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_go_in_http_basic_when_asked() {
    let server = crate::helpers::AuthServer::start_with(&["--basic-client", "my+app:s3cr%26t%3A%C3%A9"]);
    let with = |basic_auth| {
        move |c: &mut refreshkit::SessionConfig| {
            c.refresh_protocol = Some(refreshkit::RefreshProtocol::OAuth2 {
                client_id: Some("my app".into()),
                client_secret: Some("s3cr&t:é".into()),
                scope: None,
                basic_auth,
            })
        }
    };
    let store = std::sync::Arc::new(crate::helpers::MemoryStore::default());
    let (basic, _) = crate::helpers::session_with(&server, store.clone(), with(true));
    let (post, _) =
        crate::helpers::session_with(&server, std::sync::Arc::new(crate::helpers::MemoryStore::default()), with(false));
    basic.sign_in(server.login().await).await.unwrap();
    post.sign_in(server.login().await).await.unwrap();
    server.expire_all().await;

    assert_eq!(basic.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    let refused = post.execute(HttpRequest::get("/api/resource")).await.unwrap_err();
    assert_eq!(
        refused,
        SessionError::ClientRejected { detail: "invalid_client".into() },
        "this server takes Basic only"
    );
}
