use std::sync::Arc;
use std::time::Duration;

use refreshkit::HttpRequest;

use crate::helpers::{session_with, AuthServer, MemoryStore};

// Tokens live 4 s; the 60 s default leeway is capped at half the lifetime (2 s), so a
// request after 2.5 s refreshes first and never goes out on the old token.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_from_expires_in_refreshes_before_sending() {
    let server = AuthServer::start_with(&["--access-ttl-ms", "4000"]);
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    session.sign_in(server.login_with_expiry().await).await.unwrap();
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(server.stat("refreshes").await, 0, "a fresh token is not refreshed");

    tokio::time::sleep(Duration::from_millis(2500)).await;
    for _ in 0..20 {
        assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    }

    assert_eq!(server.stat("refreshes").await, 1);
    assert_eq!(server.stat("rejected").await, 0, "no request went out on the old token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_from_the_jwt_exp_claim_refreshes_before_sending() {
    let server = AuthServer::start_with(&["--access-ttl-ms", "4000"]);
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    let tokens = server.login().await;
    assert!(tokens.expires_at.is_none(), "the expiry must come from the JWT");
    session.sign_in(tokens).await.unwrap();

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let token = session.access_token().await.unwrap();
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);

    assert_eq!(server.stat("refreshes").await, 1);
    assert_eq!(server.stat("rejected").await, 0);
    assert_eq!(session.access_token().await.unwrap(), token);
}
