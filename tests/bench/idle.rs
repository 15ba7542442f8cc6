//! The mobile budget "an idle session causes no wake-ups of its own": signed in, one
//! request done, then nothing for a minute, counting the context switches of the
//! library's threads (`refreshkit`, `refreshkit-log`) from /proc.

use std::time::Duration;

use refreshkit::{HttpRequest, Tokens};

use crate::new_session;
use crate::server::AuthServer;

const IDLE: Duration = Duration::from_secs(60);

/// (thread id, name, voluntary + involuntary context switches) of the library's threads.
fn library_threads() -> Vec<(String, String, u64)> {
    let mut threads = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default().trim().to_owned();
        if !name.starts_with("refreshkit") {
            continue;
        }
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        let switches = status
            .lines()
            .filter(|l| l.starts_with("voluntary_ctxt_switches") || l.starts_with("nonvoluntary_ctxt_switches"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        threads.push((task.file_name().to_string_lossy().into_owned(), name, switches));
    }
    threads
}

/// The library's threads once that request's work has ended: no thread switched in the
/// last 200 ms. Panics after 10 s without that quiet, as nothing is idle to measure then.
async fn settled_threads() -> Vec<(String, String, u64)> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut last = library_threads();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = library_threads();
        if now == last {
            return now;
        }
        assert!(std::time::Instant::now() < deadline, "the library's threads never went quiet");
        last = now;
    }
}

pub async fn bench_idle(server: &AuthServer) {
    let session = new_session(server);
    let login = server.login_with_expiry().await;
    session
        .sign_in(Tokens { expires_at: Some(std::time::SystemTime::now() + Duration::from_secs(3600)), ..login })
        .await
        .unwrap();
    session.execute(HttpRequest::get("/api/resource")).await.unwrap();
    let before = settled_threads().await;
    tokio::time::sleep(IDLE).await;
    let after = library_threads();

    println!("## 9. An idle session's own wake-ups\n");
    println!("Signed in, one request done, then {} s with nothing to do: context switches of", IDLE.as_secs());
    println!("each of the library's threads over that time (goal: 0).\n");
    println!("| thread | wake-ups in {} s |", IDLE.as_secs());
    println!("|---|---:|");
    for (tid, name, start) in &before {
        match after.iter().find(|(t, _, _)| t == tid) {
            Some((_, _, end)) => println!("| {name} ({tid}) | {} |", end - start),
            None => println!("| {name} ({tid}) | ended (an idle blocking thread leaving) |"),
        }
    }
    println!();
    drop(session);
}
