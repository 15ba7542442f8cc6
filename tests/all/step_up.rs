//! A resource server that wants a stronger or more recent login (RFC 9470
//! `insufficient_user_authentication`) or more scope (RFC 6750 `insufficient_scope`) says
//! so in `WWW-Authenticate`: that is no expired token, even in a 401 when 401 is one of
//! `expired_statuses`. `execute` fails with `StepUpRequired` and the challenge's
//! parameters; nothing is refreshed or sent again, and the session stays as it was.

use std::sync::Arc;

use refreshkit::{
    software_dpop_key, AnswerMeaning, HttpHeader, HttpRequest, Session, SessionConfig, SessionError, SessionState,
    StepUpChallenge, StepUpReason,
};
use reqwest::Url;

use crate::helpers::{session_with, AuthServer, MemoryStore};

const STRONGER_LOGIN: &str = r#"Bearer error="insufficient_user_authentication", error_description="MFA needed", acr_values="urn:example:mfa", max_age=300"#;

async fn signed_in(server: &AuthServer) -> (Arc<Session>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let (session, _) = session_with(server, store.clone(), |_| {});
    session.sign_in(server.login().await).await.unwrap();
    (session, store)
}

/// `/api/challenge`, answering a token it takes with `status` and these fields.
fn challenge_url(server: &AuthServer, status: u16, fields: &[&str]) -> String {
    let mut url = Url::parse(&format!("{}/api/challenge", server.base_url())).unwrap();
    url.query_pairs_mut().append_pair("status", &status.to_string());
    for field in fields {
        url.query_pairs_mut().append_pair("www_authenticate", field);
    }
    url.into()
}

fn step_up(reason: StepUpReason, acr_values: Option<&str>, max_age: Option<u64>, scope: Option<&str>) -> SessionError {
    let challenge =
        StepUpChallenge { reason, acr_values: acr_values.map(Into::into), max_age, scope: scope.map(Into::into) };
    SessionError::StepUpRequired { challenge }
}

/// Fails when the challenge is not read: the 401 is taken for an expired token,
/// refreshed and sent again, and `execute` returns the second 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_asking_for_a_stronger_login_fails_with_step_up_required_and_refreshes_nothing() {
    let server = AuthServer::start();
    let (session, store) = signed_in(&server).await;
    let tokens = store.get();

    let result = session.execute(HttpRequest::get(challenge_url(&server, 401, &[STRONGER_LOGIN]))).await;

    let wanted = step_up(StepUpReason::InsufficientUserAuthentication, Some("urn:example:mfa"), Some(300), None);
    assert_eq!(result, Err(wanted));
    assert_eq!(server.stat("step_up_challenges").await, 1, "sent once");
    assert_eq!(server.stat("refresh_requests").await, 0);
    assert_eq!((session.metrics().refreshes, session.metrics().replays), (0, 0));
    assert_eq!(session.state(), SessionState::Active);
    assert_eq!(store.get(), tokens, "the tokens stay");
    let next = session.execute(HttpRequest::get("/api/resource")).await.unwrap();
    assert_eq!(next.status, 200, "the next request goes as usual");
    assert_eq!(server.stat("refresh_requests").await, 0);
}

/// Fails for the 403 when `execute` hands the answer over as served, and for the 401
/// when it refreshes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insufficient_scope_in_a_403_or_a_401_fails_with_step_up_required_and_the_scope() {
    let server = AuthServer::start();
    let (session, _) = signed_in(&server).await;
    let field = r#"Bearer realm="api", error="insufficient_scope", scope="orders:write payments""#;
    let wanted = step_up(StepUpReason::InsufficientScope, None, None, Some("orders:write payments"));

    for status in [403, 401] {
        let result = session.execute(HttpRequest::get(challenge_url(&server, status, &[field]))).await;
        assert_eq!(result, Err(wanted.clone()), "status {status}");
    }
    assert_eq!(server.stat("step_up_challenges").await, 2);
    assert_eq!(server.stat("refresh_requests").await, 0);
    assert_eq!(session.state(), SessionState::Active);
}

/// Fails when a challenge is looked for only at the start of a field, or only in the
/// first field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_up_challenge_after_other_challenges_and_fields_is_found() {
    let server = AuthServer::start();
    let (session, _) = signed_in(&server).await;
    let fields =
        [r#"Basic realm="api""#, r#"Newauth, DPoP algs="ES256", error="insufficient_user_authentication", max_age=0"#];

    let result = session.execute(HttpRequest::get(challenge_url(&server, 401, &fields))).await;

    assert_eq!(result, Err(step_up(StepUpReason::InsufficientUserAuthentication, None, Some(0), None)));
    assert_eq!(server.stat("refresh_requests").await, 0);
}

/// The other side: a 401 that says `invalid_token` is an expired token as before. Fails
/// when every Bearer challenge is taken for a step-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_saying_invalid_token_still_refreshes_once_and_replays() {
    let server = AuthServer::start();
    let (session, _) = signed_in(&server).await;
    server.expire_all().await;

    let response = session.execute(HttpRequest::get(challenge_url(&server, 401, &[]))).await.unwrap();

    assert_eq!(response.status, 200);
    assert_eq!(server.stat("refresh_requests").await, 1);
    assert_eq!(session.metrics().replays, 1);
}

/// A request whose token expired is refreshed and sent again; when the answer to the new
/// token asks for a step-up, that is the outcome. Fails when only the first answer is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_up_asked_of_the_refreshed_token_fails_with_step_up_required() {
    let server = AuthServer::start();
    let (session, _) = signed_in(&server).await;
    server.expire_all().await;

    let result = session.execute(HttpRequest::get(challenge_url(&server, 401, &[STRONGER_LOGIN]))).await;

    let wanted = step_up(StepUpReason::InsufficientUserAuthentication, Some("urn:example:mfa"), Some(300), None);
    assert_eq!(result, Err(wanted));
    assert_eq!(server.stat("refresh_requests").await, 1, "the expired token, once");
    assert_eq!(server.stat("step_up_challenges").await, 1);
}

/// What the platform layers ask (OkHttp, URLSession send their own requests): the
/// answer means `StepUp`, and `parse_step_up_challenge` reads it. Fails when
/// `answer_means` says `Expired` for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layer_is_told_a_step_up_answer_is_no_expired_token_and_reads_its_challenge() {
    let server = AuthServer::start();
    let (session, _) = signed_in(&server).await;
    let url = challenge_url(&server, 401, &[STRONGER_LOGIN]);
    let token = session.access_token().await.unwrap();
    let response = reqwest::Client::new().get(&url).bearer_auth(&token).send().await.unwrap();
    let status = response.status().as_u16();
    let headers: Vec<HttpHeader> = response
        .headers()
        .iter()
        .map(|(n, v)| HttpHeader { name: n.as_str().into(), value: v.to_str().unwrap().into() })
        .collect();

    assert_eq!(session.answer_means(url, status, headers.clone(), Vec::new()), AnswerMeaning::StepUp);
    let challenge = refreshkit::parse_step_up_challenge(status, headers).unwrap();
    assert_eq!((challenge.acr_values.as_deref(), challenge.max_age), (Some("urn:example:mfa"), Some(300)));
    let plain = vec![HttpHeader { name: "WWW-Authenticate".into(), value: r#"Bearer error="invalid_token""#.into() }];
    assert_eq!(
        session.answer_means("http://127.0.0.1/".into(), 401, plain.clone(), Vec::new()),
        AnswerMeaning::Expired
    );
    assert_eq!(refreshkit::parse_step_up_challenge(401, plain), None);
}

/// A DPoP-bound request first meets the resource's nonce (a refused proof, made again),
/// then the step-up challenge, in a `DPoP` challenge (RFC 9449 section 7.1). Fails when
/// the step-up is looked for in Bearer challenges only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpop_bound_request_asked_for_a_step_up_after_a_nonce_fails_with_step_up_required() {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let store = Arc::new(MemoryStore::default());
    let session = Session::with_dpop(SessionConfig::new(server.base_url()), store, software_dpop_key(), None).unwrap();
    session.sign_in(server.login_with_proof(&session).await).await.unwrap();
    let field = r#"DPoP algs="ES256", error="insufficient_user_authentication", acr_values="urn:example:mfa""#;
    server.post_json("/control/dpop-rotate-nonce", serde_json::Value::Null).await;

    let result = session.execute(HttpRequest::get(challenge_url(&server, 401, &[field]))).await;

    assert_eq!(result, Err(step_up(StepUpReason::InsufficientUserAuthentication, Some("urn:example:mfa"), None, None)));
    assert_eq!(server.stat("resource_nonce_challenges").await, 1, "the resource's nonce, learnt once");
    assert_eq!(server.stat("refresh_requests").await, 0);
    assert_eq!(server.stat("step_up_challenges").await, 1);
}
