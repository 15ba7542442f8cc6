use std::collections::HashMap;
use std::sync::Arc;

use refreshkit::{BodyRule, HttpRequest, RefreshProtocol, SessionConfig};
use serde_json::Value;

use crate::helpers::{session_with, AuthServer, MemoryStore};

/// The JavaScript recipe's protocol, by configuration alone: 200 `{"code": 1002}` means
/// expired, and `POST /app/renewal` renews with a JSON body.
pub fn recipe_config(config: &mut SessionConfig, credential: &str) {
    config.refresh_path = "/app/renewal".into();
    config.expired_statuses = Some(vec![]);
    config.expired_body_rule = Some(BodyRule { pointer: "/code".into(), values: vec!["1002".into()] });
    config.refresh_protocol = Some(RefreshProtocol::Json {
        refresh_token_field: "refreshToken".into(),
        extra_fields: HashMap::from([("authorization".to_owned(), credential.to_owned())]),
        access_token_pointer: "/data/token".into(),
        refresh_token_pointer: Some("/data/refreshToken".into()),
        expires_in_pointer: None,
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_1002_answers_trigger_one_json_refresh_and_replay() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, _) = session_with(&server, store.clone(), |c| recipe_config(c, "demo-client-credential"));
    let first = server.login().await;
    session.sign_in(first.clone()).await.unwrap();
    server.expire_all().await;

    let calls: Vec<_> = (0..100)
        .map(|_| {
            let session = session.clone();
            tokio::spawn(async move { session.execute(HttpRequest::get("/app/resource")).await })
        })
        .collect();
    for call in calls {
        let response = call.await.unwrap().unwrap();
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["code"], 0);
    }

    assert_eq!(server.stat("refreshes").await, 1);
    assert_ne!(store.get().unwrap().refresh_token, first.refresh_token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_client_credential_keeps_the_tokens_and_is_a_client_error() {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, _) = session_with(&server, store.clone(), |c| recipe_config(c, "wrong"));
    let first = server.login().await;
    session.sign_in(first.clone()).await.unwrap();
    server.expire_all().await;

    let error = session.execute(HttpRequest::get("/app/resource")).await.unwrap_err();

    assert_eq!(error, refreshkit::SessionError::ClientRejected { detail: "invalid_client".into() });
    assert_eq!(store.get(), Some(first), "the app's mistake does not sign the user out");
}
