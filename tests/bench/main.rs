//! Benchmarks of the Rust core against the local auth server on loopback, side by side
//! with the alternative in the same run. Prints Markdown sections; `make bench` collects
//! them (with the JVM and Node.js peers) into BENCHMARKS.md. Timings are medians of
//! repeated runs and are reported as ratios, since a shared 2-core machine is noisy.

#[path = "../all/helpers/server.rs"]
#[allow(dead_code)]
mod server;

#[path = "../all/helpers/child.rs"]
#[allow(dead_code)]
mod child;
mod allocations;
mod dpop;
mod idle;
mod overhead;
mod processes;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use refreshkit::{FileTokenStore, HttpRequest, Session, SessionConfig, Tokens};
use serde_json::json;
use server::AuthServer;

#[global_allocator]
static ALLOCATOR: allocations::Counting = allocations::Counting;

const REPEATS: usize = 5;
const TOKEN_TTL_MS: u64 = 4_000;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn new_session(server: &AuthServer) -> Arc<Session> {
    let path = std::env::temp_dir().join(format!("refreshkit-bench-{}.json", std::process::id()));
    Session::new(SessionConfig::new(server.base_url()), Arc::new(FileTokenStore::new(path)), None).unwrap()
}

/// N concurrent requests; returns (elapsed, failures).
async fn burst(session: &Arc<Session>, n: usize) -> (Duration, usize) {
    let started = Instant::now();
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let session = session.clone();
            tokio::spawn(async move { session.execute(HttpRequest::get("/api/resource")).await })
        })
        .collect();
    let mut failures = 0;
    for call in calls {
        if !matches!(call.await, Ok(Ok(r)) if r.status == 200) {
            failures += 1;
        }
    }
    (started.elapsed(), failures)
}

#[derive(Clone, Copy, PartialEq)]
enum Expiry {
    Valid,
    /// Known from `expires_in`: a proactive refresh.
    Known,
    /// Revoked by the server unannounced: a reactive refresh on 401.
    Unknown,
}

/// One burst of `n` in the given expiry situation: (elapsed, failures, refreshes, stale).
async fn scenario_burst(server: &AuthServer, n: usize, expiry: Expiry) -> (Duration, usize, u64, u64) {
    let session = new_session(server);
    let tokens = server.login_with_expiry().await;
    let known_expiry = SystemTime::now() + Duration::from_millis(20);
    let tokens = match expiry {
        // The client is told the token expires in 20 ms (the server would accept it
        // longer): once that has passed, the burst must refresh before sending.
        Expiry::Known => Tokens { expires_at: Some(known_expiry), ..tokens },
        _ => tokens,
    };
    session.sign_in(tokens).await.unwrap();
    if expiry == Expiry::Known {
        tokio::time::sleep(known_expiry.duration_since(SystemTime::now()).unwrap_or_default()).await;
    }
    if expiry == Expiry::Unknown {
        server.expire_all().await;
    }
    server.fault(json!({"kind": "delay", "ms": 50})).await;
    let (refreshes, stale) = (server.stat("refreshes").await, server.stat("rejected").await);
    let (elapsed, failures) = burst(&session, n).await;
    let refreshes = server.stat("refreshes").await - refreshes;
    let stale = server.stat("rejected").await - stale;
    server.post_json("/control/reset", json!({})).await; // drop an unused delay
    (elapsed, failures, refreshes, stale)
}

async fn bench_burst(server: &AuthServer) {
    println!("## 1. Burst across an expiry\n");
    println!("N concurrent requests, refresh endpoint delayed 50 ms, {REPEATS} runs each; time is the burst's");
    println!("completion time divided by the same burst's time with a valid token (median).\n");
    println!("| N | expiry | refreshes (goal 1) | sent on the stale token | failures | time vs valid token |");
    println!("|---:|---|---:|---:|---:|---:|");
    for n in [1usize, 10, 100, 1_000, 10_000] {
        for (label, expiry) in [("known (expires_in)", Expiry::Known), ("unknown (401)", Expiry::Unknown)] {
            let (mut ratios, mut refreshes, mut stale, mut failures) = (Vec::new(), Vec::new(), Vec::new(), 0);
            for _ in 0..REPEATS {
                let (valid, _, _, _) = scenario_burst(server, n, Expiry::Valid).await;
                let (t, f, r, s) = scenario_burst(server, n, expiry).await;
                ratios.push(t.as_secs_f64() / valid.as_secs_f64());
                refreshes.push(r as f64);
                stale.push(s as f64);
                failures += f;
            }
            let max = |v: &Vec<f64>| v.iter().cloned().fold(0.0, f64::max);
            println!(
                "| {n} | {label} | {} (max {}) | {} (max {}) | {failures} | {:.2} |",
                median(refreshes.clone()),
                max(&refreshes),
                median(stale.clone()),
                max(&stale),
                median(ratios)
            );
        }
    }
    println!();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = AuthServer::start_with(&["--access-ttl-ms", &TOKEN_TTL_MS.to_string()]);
    // `bench [burst|overhead|memory|processes|idle|dpop]` runs one part, for profiling.
    let only = std::env::args().nth(1);
    let wanted = |part: &str| only.as_deref().is_none_or(|o| o == part && o != "profile");
    if wanted("burst") {
        bench_burst(&server).await;
    }
    if wanted("overhead") {
        overhead::bench_overhead().await;
    }
    // `bench profile bare|library|callers [SECONDS [CONCURRENCY]]`: one arrangement alone
    // (default 10 s at c=64), for perf.
    if only.as_deref() == Some("profile") {
        let arrangement = std::env::args().nth(2).unwrap_or_default();
        let seconds = std::env::args().nth(3).and_then(|s| s.parse().ok()).unwrap_or(10);
        let concurrency = std::env::args().nth(4).and_then(|s| s.parse().ok()).unwrap_or(64);
        overhead::profile_one(&arrangement, seconds, concurrency).await;
    }
    if wanted("memory") {
        bench_memory(&server).await;
    }
    if wanted("processes") {
        processes::bench_processes(&server).await;
    }
    if wanted("idle") {
        idle::bench_idle(&server).await;
    }
    if wanted("dpop") {
        dpop::bench_dpop().await;
    }
}

async fn bench_memory(server: &AuthServer) {
    let session = new_session(server);
    session.sign_in(server.login().await).await.unwrap();
    // Warm up connections, buffers and the runtime before the baseline.
    burst(&session, 200).await;
    server.expire_all().await;
    server.fault(json!({"kind": "delay", "ms": 0, "gated": true})).await;
    let before = rss_kib();
    let n = 10_000;
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let session = session.clone();
            tokio::spawn(async move { session.execute(HttpRequest::get("/api/resource")).await })
        })
        .collect();
    // Measured once every request waits on the refresh the gate holds.
    let waited_from = Instant::now();
    while session.metrics().waiting_for_refresh < n as u64 {
        let m = session.metrics();
        assert!(
            waited_from.elapsed() < Duration::from_secs(60),
            "not all {n} requests came to wait on the refresh: {} waiting, {} requests, {} refreshes",
            m.waiting_for_refresh,
            m.requests,
            m.refreshes
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let during = rss_kib();
    server.post_json("/control/release", json!({})).await;
    for c in calls {
        let _ = c.await;
    }
    let per = (during.saturating_sub(before)) as f64 * 1024.0 / n as f64;
    println!("## 7. Memory: 10,000 requests waiting on one refresh\n");
    println!("| RSS before | RSS with 10,000 waiting | per waiting request | goal |");
    println!("|---:|---:|---:|---|");
    println!("| {before} KiB | {during} KiB | {per:.0} bytes | ≤ 4 KiB |\n");
}
