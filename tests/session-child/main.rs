//! A separate process running a session over a file-backed store, for the tests with
//! several processes on one store (tests/all/killed_mid_refresh.rs, processes.rs).
//!
//! Usage: session-child BASE_URL STORE_PATH [REQUESTS]
//! Without REQUESTS: sends one request (which refreshes when the token has expired) and
//! prints one line: `ok STATUS`, `expired`, or `error TEXT`.
//! With REQUESTS: reads the store, prints `ready`, waits for a line on stdin (so every
//! process starts together), sends REQUESTS concurrent requests and prints
//! `ok=N expired=N errors=N refreshes=N` and, after errors, the first one's text.

use std::io::BufRead;
use std::sync::Arc;

use refreshkit::{FileTokenStore, HttpRequest, Session, SessionConfig, SessionError};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(base_url), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: session-child BASE_URL STORE_PATH [REQUESTS]");
        std::process::exit(2);
    };
    let session = match Session::new(SessionConfig::new(base_url), Arc::new(FileTokenStore::new(path)), None) {
        Ok(session) => session,
        Err(e) => {
            println!("error {e}");
            return;
        }
    };
    match args.next().and_then(|n| n.parse::<usize>().ok()) {
        None => match session.execute(HttpRequest::get("/api/resource")).await {
            Ok(response) => println!("ok {}", response.status),
            Err(SessionError::SessionExpired { .. }) => println!("expired"),
            Err(e) => println!("error {e}"),
        },
        Some(requests) => burst(session, requests).await,
    }
}

async fn burst(session: Arc<Session>, requests: usize) {
    session.restored_state().await;
    println!("ready");
    let _ = std::io::stdin().lock().lines().next();
    let calls: Vec<_> = (0..requests)
        .map(|_| {
            let session = Arc::clone(&session);
            tokio::spawn(async move { session.execute(HttpRequest::get("/api/resource")).await })
        })
        .collect();
    let (mut ok, mut expired, mut errors, mut first_error) = (0, 0, 0, None);
    for call in calls {
        match call.await.expect("a request task panicked") {
            Ok(response) if response.status == 200 => ok += 1,
            Err(SessionError::SessionExpired { .. }) => expired += 1,
            other => {
                errors += 1;
                first_error.get_or_insert_with(|| format!("{other:?}"));
            }
        }
    }
    let refreshes = session.metrics().refreshes;
    println!("ok={ok} expired={expired} errors={errors} refreshes={refreshes}");
    if let Some(error) = first_error {
        println!("first error: {error}");
    }
}
