//! Soak: mixed traffic from many concurrent callers against the local auth server, with
//! access tokens living 2 s and random faults on the refresh endpoint. Not part of the
//! test suite; run with `make soak` (SOAK_SECONDS, default 1800; SOAK_CALLERS, default 32).
//!
//! Reports requests, refreshes against token lifetimes, failures by class, p50/p99
//! latency, and the process's RSS at the start and the end.

#[path = "../all/helpers/server.rs"]
#[allow(dead_code)]
mod server;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use refreshkit::{HttpRequest, Session, SessionConfig, SessionError};
use serde_json::json;
use server::AuthServer;

const TOKEN_LIFETIME: Duration = Duration::from_secs(2);

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn class(error: &SessionError) -> &'static str {
    match error {
        SessionError::Network { .. } => "network",
        SessionError::Timeout => "timeout",
        SessionError::InvalidResponse { .. } => "invalid response",
        SessionError::SessionExpired { .. } => "session expired",
        SessionError::TooManyRefreshes => "too many refreshes",
        _ => "other",
    }
}

#[tokio::main]
async fn main() {
    let seconds = env_or("SOAK_SECONDS", 1800);
    let callers = env_or("SOAK_CALLERS", 32) as usize;
    let server = AuthServer::start_with(&["--access-ttl-ms", &TOKEN_LIFETIME.as_millis().to_string()]);
    let mut config = SessionConfig::new(server.base_url());
    config.refresh_timeout_ms = 1_000;
    let store = Arc::new(refreshkit::FileTokenStore::new(std::env::temp_dir().join("refreshkit-soak.json")));
    let session = Session::new(config, store, None).expect("session");
    session.sign_in(server.login_with_expiry().await).await.expect("sign in");
    let rss_start = rss_kib();
    let soak_started = Instant::now();
    let deadline = soak_started + Duration::from_secs(seconds);
    let latencies = Arc::new(Histogram::default());
    let failures = Arc::new(Mutex::new(BTreeMap::<&'static str, u64>::new()));

    let workers: Vec<_> = (0..callers)
        .map(|i| {
            let (session, latencies, failures) = (session.clone(), latencies.clone(), failures.clone());
            tokio::spawn(async move {
                let path = if i % 2 == 0 { "/api/resource" } else { "/echo" };
                while Instant::now() < deadline {
                    let started = Instant::now();
                    match session.execute(HttpRequest::get(path)).await {
                        Ok(_) => latencies.record(started.elapsed()),
                        Err(e) => *failures.lock().unwrap().entry(class(&e)).or_default() += 1,
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();

    // Random faults on the refresh endpoint, one every few seconds.
    let faults = [
        json!({"kind": "status", "status": 503}),
        json!({"kind": "status", "status": 500}),
        json!({"kind": "drop"}),
        json!({"kind": "truncate"}),
        json!({"kind": "malformed"}),
        json!({"kind": "delay", "ms": 300}),
    ];
    let mut injected = 0u64;
    let mut rss_after_a_minute = None;
    let mut pick = 0x9e3779b97f4a7c15u64;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(3)).await;
        pick ^= pick << 13;
        pick ^= pick >> 7;
        pick ^= pick << 17;
        server.fault(faults[(pick % faults.len() as u64) as usize].clone()).await;
        injected += 1;
        if rss_after_a_minute.is_none() && soak_started.elapsed() >= Duration::from_secs(60) {
            rss_after_a_minute = Some(rss_kib());
        }
    }
    let rss_end = rss_kib();
    for w in workers {
        let _ = w.await;
    }

    let stats = server.stats().await;
    let pct = |p: f64| latencies.percentile(p).as_secs_f64() * 1000.0;
    let lifetimes = seconds as f64 / (TOKEN_LIFETIME.as_secs_f64() / 2.0);
    println!("| soak | value |\n|---|---|");
    println!("| duration, callers | {seconds} s, {callers} |");
    println!("| requests succeeded | {} |", latencies.count());
    for (class, n) in failures.lock().unwrap().iter() {
        println!("| failed: {class} | {n} |");
    }
    println!("| refreshes (server) | {} |", stats["refreshes"]);
    println!("| refresh calls (server, incl. {injected} faulted) | {} |", stats["refresh_requests"]);
    println!(
        "| refreshes per token half-life ({lifetimes:.0} expected at most) | {:.2} |",
        stats["refreshes"].as_f64().unwrap_or(0.0) / lifetimes
    );
    println!("| refresh-token reuse detected (goal 0) | {} |", stats["reuse_detected"]);
    println!("| requests rejected by the server (stale token) | {} |", stats["rejected"]);
    println!("| latency p50 / p99 | {:.2} ms / {:.2} ms |", pct(0.5), pct(0.99));
    let minute = rss_after_a_minute.map_or("-".into(), |k| format!("{k} KiB"));
    println!("| RSS start / after 1 min / end | {rss_start} KiB / {minute} / {rss_end} KiB |");
}

/// Latencies in 10 µs buckets up to 100 ms: a fixed 80 KB, so the harness's own memory
/// does not grow with the run and the RSS figures are the library's.
struct Histogram {
    buckets: Vec<AtomicU64>,
}

const BUCKET: Duration = Duration::from_micros(10);

impl Default for Histogram {
    fn default() -> Self {
        Histogram { buckets: (0..10_000).map(|_| AtomicU64::new(0)).collect() }
    }
}

impl Histogram {
    fn record(&self, latency: Duration) {
        let i = ((latency.as_micros() / BUCKET.as_micros()) as usize).min(self.buckets.len() - 1);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The upper edge of the bucket holding the `p` quantile.
    fn percentile(&self, p: f64) -> Duration {
        let rank = (self.count() as f64 * p).ceil() as u64;
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= rank.max(1) {
                return BUCKET * (i as u32 + 1);
            }
        }
        BUCKET * self.buckets.len() as u32
    }
}
