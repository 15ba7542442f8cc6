use refreshkit::{HttpRequest, SessionEvent};
use serde_json::json;

use crate::helpers::{eventually, signed_in_then_expired, Expired};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_caller_that_started_a_refresh_keeps_its_result() {
    let Expired { server, store, session, recorder, first } = signed_in_then_expired().await;
    server.fault(json!({"kind": "delay", "ms": 500})).await;

    let starter = {
        let session = session.clone();
        tokio::spawn(async move { session.execute(HttpRequest::get("/api/resource")).await })
    };
    eventually("the refresh to reach the server", || async { server.stat("refresh_requests").await == 1 }).await;
    starter.abort();
    assert!(starter.await.unwrap_err().is_cancelled());

    recorder.wait_until(|e| e.contains(&SessionEvent::Refreshed)).await;
    assert_ne!(store.get().unwrap().refresh_token, first.refresh_token, "the refresh was persisted");
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(server.stat("refreshes").await, 1, "the next request used the refreshed token");
}
