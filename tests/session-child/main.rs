//! A separate process running a session over a file-backed store, for the test that
//! kills a process in the middle of a refresh (tests/all/killed_mid_refresh.rs).
//!
//! Usage: session-child BASE_URL STORE_PATH
//! Sends one request (which refreshes when the token has expired) and prints one line:
//! `ok STATUS`, `expired`, or `error TEXT`.

use std::sync::Arc;

use refreshkit::{FileTokenStore, HttpRequest, Session, SessionConfig, SessionError};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(base_url), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: session-child BASE_URL STORE_PATH");
        std::process::exit(2);
    };
    let session = match Session::new(SessionConfig::new(base_url), Arc::new(FileTokenStore::new(path)), None) {
        Ok(session) => session,
        Err(e) => {
            println!("error {e}");
            return;
        }
    };
    match session.execute(HttpRequest::get("/api/resource")).await {
        Ok(response) => println!("ok {}", response.status),
        Err(SessionError::SessionExpired { .. }) => println!("expired"),
        Err(e) => println!("error {e}"),
    }
}
