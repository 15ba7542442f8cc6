//! The main job: starts the local auth server, signs in with a file-backed store, fires
//! 100 concurrent requests across a token expiry (once with the expiry known from the
//! JWT, once with the server revoking the token unannounced), then starts a new
//! `Session` on the same store to show the user is still signed in.
//!
//! Run with `make demo` (or `cargo build -p auth-server && cargo run --example demo`).

#[path = "../all/helpers/server.rs"]
#[allow(dead_code)] // the tests use more of it than the demo
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use refreshkit::{FileTokenStore, HttpRequest, Session, SessionConfig};
use server::AuthServer;

const REQUESTS: usize = 100;

struct Row {
    phase: &'static str,
    succeeded: usize,
    refreshes: u64,
    replays: u64,
    stale: u64,
    millis: u128,
}

/// Fires `REQUESTS` requests, spread over `spread`, all in flight together.
async fn burst(session: &Arc<Session>, spread: Duration) -> (usize, u128) {
    let started = Instant::now();
    let pause = spread / REQUESTS as u32;
    let mut calls = Vec::new();
    for _ in 0..REQUESTS {
        let session = session.clone();
        calls.push(tokio::spawn(async move { session.execute(HttpRequest::get("/api/resource")).await }));
        tokio::time::sleep(pause).await;
    }
    let mut ok = 0;
    for call in calls {
        if matches!(call.await, Ok(Ok(r)) if r.status == 200) {
            ok += 1;
        }
    }
    (ok, started.elapsed().as_millis())
}

#[tokio::main]
async fn main() {
    // Access tokens live 4 s and are refreshed at half-life, so the first burst (spread
    // over 3 s) crosses one refresh.
    let server = AuthServer::start_with(&["--access-ttl-ms", "4000"]);
    let dir = std::env::temp_dir().join(format!("refreshkit-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("demo folder");
    let path = dir.join("tokens.json");
    let config = SessionConfig::new(server.base_url());
    let session = Session::new(config.clone(), Arc::new(FileTokenStore::new(&path)), None).expect("session");
    session.sign_in(server.login().await).await.expect("sign in");
    println!("refreshkit demo: auth server at {}, tokens in {}\n", server.base_url(), path.display());

    let mut rows = Vec::new();
    let mut record = |phase, (succeeded, millis), before: (u64, u64, u64), after: (u64, u64, u64)| {
        rows.push(Row {
            phase,
            succeeded,
            millis,
            refreshes: after.0 - before.0,
            replays: after.1 - before.1,
            stale: after.2 - before.2,
        })
    };
    let counters = |s: &Arc<Session>, stale: u64| (s.metrics().refreshes, s.metrics().replays, stale);

    let before = counters(&session, server.stat("rejected").await);
    let result = burst(&session, Duration::from_secs(3)).await;
    record("expiry known (JWT exp)", result, before, counters(&session, server.stat("rejected").await));

    server.expire_all().await;
    let before = counters(&session, server.stat("rejected").await);
    let result = burst(&session, Duration::ZERO).await;
    record("revoked unannounced (401)", result, before, counters(&session, server.stat("rejected").await));

    println!(
        "| phase                     | requests | succeeded | refreshes | replays | sent with a stale token | ms   |"
    );
    println!(
        "|---------------------------|----------|-----------|-----------|---------|-------------------------|------|"
    );
    for r in &rows {
        println!(
            "| {:<25} | {:>8} | {:>9} | {:>9} | {:>7} | {:>23} | {:>4} |",
            r.phase, REQUESTS, r.succeeded, r.refreshes, r.replays, r.stale, r.millis
        );
    }
    drop(session);

    // A new process would do exactly this: build a session on the same store.
    let restarted = Session::new(config, Arc::new(FileTokenStore::new(&path)), None).expect("session");
    let status = restarted.execute(HttpRequest::get("/api/resource")).await.map(|r| r.status);
    println!("\nnew Session on the same store: state {:?}, GET /api/resource -> {:?}", restarted.state(), status);
    let _ = std::fs::remove_dir_all(&dir);
    if rows.iter().any(|r| r.succeeded != REQUESTS) || status != Ok(200) {
        eprintln!("demo: some requests failed");
        std::process::exit(1);
    }
}
