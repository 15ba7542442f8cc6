//! Requests beyond `max_concurrent_requests` queue, within their own time bound, and
//! leave with the token that is current when they leave.

use std::sync::Arc;

use refreshkit::{HttpRequest, SessionError};
use serde_json::json;

use crate::helpers::{eventually, session_with, AuthServer, MemoryStore};

/// Fails before queueing counted against the request timeout: it waited without bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_queued_behind_a_full_wire_is_bounded_by_the_request_timeout() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |c| {
        c.max_concurrent_requests = 1;
        c.request_timeout_ms = 400;
    });
    session.sign_in(server.login().await).await.unwrap();
    let blocking_the_wire = tokio::spawn({
        let session = Arc::clone(&session);
        async move { session.execute(HttpRequest { timeout_ms: Some(60_000), ..HttpRequest::get("/held") }).await }
    });
    eventually("the first request to hold the only place", || async { server.stat("held_waiting").await == 1 }).await;

    let queued = session.execute(HttpRequest::get("/api/resource")).await;

    assert_eq!(queued.unwrap_err(), SessionError::Timeout, "timed out in the queue");
    server.post_json("/control/release-held", json!({})).await;
    assert_eq!(blocking_the_wire.await.unwrap().unwrap().status, 200);
    assert_eq!(server.stat("served").await, 1, "the queued request never went out");
}

/// Fails before the token was chosen again on leaving the queue: it left with the old one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_request_leaves_with_the_token_current_when_it_leaves() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |c| c.max_concurrent_requests = 1);
    let first = server.login().await;
    session.sign_in(first.clone()).await.unwrap();
    let spawn_held = || {
        let session = Arc::clone(&session);
        tokio::spawn(async move { session.execute(HttpRequest::get("/held")).await })
    };
    let holding = spawn_held();
    eventually("the first request to hold the only place", || async { server.stat("held_waiting").await == 1 }).await;
    let queued = spawn_held();
    eventually("the second request to queue", || std::future::ready(session.metrics().waiting_for_the_wire == 1)).await;

    let replaced = session.refresh_after_unauthorized(first.access_token.clone()).await.unwrap();
    server.post_json("/control/release-held", json!({})).await;
    assert_eq!(holding.await.unwrap().unwrap().status, 200);
    eventually("the queued request to reach the server", || async { server.stat("held_waiting").await == 1 }).await;
    server.post_json("/control/release-held", json!({})).await;
    assert_eq!(queued.await.unwrap().unwrap().status, 200);

    let seen = server.stats().await["held_seen"].clone();
    assert_eq!(seen, json!([first.access_token, replaced]));
}

type Call<T> = tokio::task::JoinHandle<Result<T, SessionError>>;

/// A request that queued behind the only place on the wire, then left the queue while a
/// refresh (held at the server until `/control/release`) was under way, and now waits for
/// it: the request's call, the refresh's call, and the tokens it replaces.
struct QueuedDuringARefresh {
    server: AuthServer,
    session: Arc<refreshkit::Session>,
    queued: Call<refreshkit::HttpResponse>,
    refresh: Call<String>,
    first: refreshkit::Tokens,
    /// When the request was seen waiting in the queue.
    queued_at: std::time::Instant,
}

async fn queued_during_a_refresh(queued: HttpRequest) -> QueuedDuringARefresh {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |c| c.max_concurrent_requests = 1);
    let first = server.login().await;
    session.sign_in(first.clone()).await.unwrap();
    let spawn = |request: HttpRequest| {
        let session = Arc::clone(&session);
        tokio::spawn(async move { session.execute(request).await })
    };
    let holding = spawn(HttpRequest::get("/held"));
    eventually("the first request to hold the only place", || async { server.stat("held_waiting").await == 1 }).await;
    let queued = spawn(queued);
    eventually("the second request to queue", || std::future::ready(session.metrics().waiting_for_the_wire == 1)).await;
    let queued_at = std::time::Instant::now();
    server.fault(json!({"kind": "delay", "ms": 0, "gated": true})).await;
    let refresh = tokio::spawn({
        let (session, rejected) = (Arc::clone(&session), first.access_token.clone());
        async move { session.refresh_after_unauthorized(rejected).await }
    });
    eventually("the refresh to reach the server", || async { server.stat("refresh_requests").await == 1 }).await;
    server.post_json("/control/release-held", json!({})).await;
    assert_eq!(holding.await.unwrap().unwrap().status, 200);
    eventually("the queued request to wait for the refresh", || {
        std::future::ready(session.metrics().waiting_for_refresh == 2 && session.metrics().waiting_for_the_wire == 0)
    })
    .await;
    QueuedDuringARefresh { server, session, queued, refresh, first, queued_at }
}

/// Fails when a request that left the queue during a refresh waited for it in its place on
/// the wire: the request for another host, which carries no token, waited for the refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_the_token_never_waits_behind_a_refresh_for_a_place_on_the_wire() {
    let QueuedDuringARefresh { server, session, queued, refresh, first, .. } =
        queued_during_a_refresh(HttpRequest::get("/api/resource")).await;

    // Another host on this machine: the token never goes there.
    let elsewhere = format!("http://localhost:{}/big?bytes=10", server.port());
    let answer = tokio::time::timeout(std::time::Duration::from_secs(60), session.execute(HttpRequest::get(elsewhere)))
        .await
        .expect("the request without the token ended");

    assert_eq!(answer.unwrap().status, 200);
    assert_eq!(session.metrics().waiting_for_refresh, 2, "served while the refresh was still under way");
    assert_eq!(server.stat("refreshes").await, 0, "the refresh was still held");
    server.post_json("/control/release", json!({})).await;
    let replaced = refresh.await.unwrap().unwrap();
    assert_eq!(queued.await.unwrap().unwrap().status, 200);
    assert_ne!(replaced, first.access_token);
}

/// Fails when the request's bound also ran while it waited for the refresh: it was sent
/// with its time already spent and failed with `Timeout`, though the refresh succeeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_waits_for_a_refresh_after_queueing_keeps_the_rest_of_its_bound() {
    // Room for the scene's control calls while it queues, on a busy machine too.
    let bound = std::time::Duration::from_secs(2);
    let request = HttpRequest { timeout_ms: Some(bound.as_millis() as u64), ..HttpRequest::get("/api/resource") };
    let QueuedDuringARefresh { server, queued, refresh, queued_at, .. } = queued_during_a_refresh(request).await;

    // The refresh takes longer than the queued request's whole bound.
    eventually("the queued request's bound to pass", || std::future::ready(queued_at.elapsed() > bound)).await;
    server.post_json("/control/release", json!({})).await;

    refresh.await.unwrap().unwrap();
    assert_eq!(queued.await.unwrap().map(|r| r.status), Ok(200));
}
