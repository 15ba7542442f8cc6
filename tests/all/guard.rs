use std::sync::Arc;

use refreshkit::{HttpRequest, SessionError};
use serde_json::json;

use crate::helpers::{session_with, signed_in_then_expired, AuthServer, Expired, MemoryStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_stops_a_server_that_keeps_rejecting_fresh_tokens() {
    let Expired { server, session, .. } = signed_in_then_expired().await;
    server.set_access_ttl_ms(0).await;

    let mut results = Vec::new();
    for _ in 0..5 {
        results.push(session.execute(HttpRequest::get("/api/resource")).await.map(|r| r.status));
    }

    assert!(results.contains(&Err(SessionError::TooManyRefreshes)), "{results:?}");
    assert_eq!(server.stat("refreshes").await, 3, "three fresh tokens rejected in a row make a loop");
}

/// Fails with a guard that only counts refreshes per window: 2 s tokens need 15 per 30 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_second_tokens_learned_only_from_the_api_run_for_a_minute_without_a_failure() {
    let server = AuthServer::start_with(&["--access-ttl-ms", "2000", "--opaque-tokens"]);
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |c| {
        crate::json_protocol::recipe_config(c, "demo-client-credential")
    });
    session.sign_in(server.login().await).await.unwrap();

    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut requests = 0;
    while std::time::Instant::now() < until {
        let answer = session.execute(HttpRequest::get("/app/resource")).await.unwrap();
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&answer.body).unwrap()["code"], 0);
        requests += 1;
        // The pace of an app polling every 250 ms: the test is about the rate.
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }

    assert!(requests >= 100, "{requests} requests");
    assert!(server.stat("refreshes").await >= 20, "every expiry was met and refreshed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_failures_do_not_count_toward_the_guard() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |c| c.max_refreshes_per_window = 2);
    session.sign_in(server.login().await).await.unwrap();
    server.fault(json!({"kind": "status", "status": 503, "times": 6})).await;

    for _ in 0..6 {
        server.expire_all().await;
        let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();
        assert!(matches!(error, SessionError::Network { .. }), "{error:?}");
    }
    server.expire_all().await;

    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(server.stat("refresh_requests").await, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_tokens_refreshed_near_their_end_never_trip_the_guard() {
    // 1 s tokens are refreshed at half-life: about 8 refreshes in 4 s, above the guard's
    // 5 per 30 s, and none of them is a loop.
    let server = AuthServer::start_with(&["--access-ttl-ms", "1000"]);
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    session.sign_in(server.login_with_expiry().await).await.unwrap();

    let until = std::time::Instant::now() + std::time::Duration::from_secs(4);
    while std::time::Instant::now() < until {
        assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.map(|r| r.status), Ok(200));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    assert!(server.stat("refreshes").await > 5, "more refreshes than the guard's window allows");
    assert_eq!(server.stat("rejected").await, 0);
}
