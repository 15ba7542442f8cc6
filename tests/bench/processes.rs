//! The cross-process burst (issue: one refresh across processes): the same 100 requests
//! right after an expiry, from one process or split across 2 and 4 processes sharing one
//! `FileTokenStore` (and so its refresh lock).

use std::path::Path;
use std::time::Instant;

use refreshkit::{FileTokenStore, TokenStore};

use crate::child::SessionChild;
use crate::server::AuthServer;
use crate::{median, REPEATS};

const REQUESTS: usize = 100;

/// One round: `processes` processes share `REQUESTS` requests; (seconds, refreshes, failures).
async fn round(server: &AuthServer, store: &Path, processes: usize) -> (f64, u64, usize) {
    FileTokenStore::new(store).save(server.login().await).unwrap();
    server.expire_all().await;
    let before = server.stat("refreshes").await;
    let mut children: Vec<_> =
        (0..processes).map(|_| SessionChild::ready(&server.base_url(), store, REQUESTS / processes)).collect();
    let started = Instant::now();
    children.iter_mut().for_each(SessionChild::go);
    let mut failures = 0;
    for child in children {
        let outcome = child.outcome();
        let ok: usize = outcome.strip_prefix("ok=").and_then(|s| s.split(' ').next()?.parse().ok()).unwrap_or(0);
        failures += REQUESTS / processes - ok;
    }
    let elapsed = started.elapsed().as_secs_f64();
    (elapsed, server.stat("refreshes").await - before, failures)
}

pub async fn bench_processes(server: &AuthServer) {
    let store = std::env::temp_dir().join(format!("refreshkit-bench-procs-{}.json", std::process::id()));
    println!("## 8. One store, several processes: {REQUESTS} requests right after an expiry\n");
    println!("The same requests from one process, or split across processes that share a");
    println!("`FileTokenStore` and its refresh lock. Time from \"go\" to the last answer, median of {REPEATS}.\n");
    println!(
        "| processes | refreshes per round (goal 1) | refresh tokens spent twice | failures | time | vs 1 process |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    let mut single = None;
    for processes in [1, 2, 4] {
        let reuse_before = server.stat("reuse_detected").await;
        let (mut times, mut refreshes, mut failures) = (Vec::new(), Vec::new(), 0);
        for _ in 0..REPEATS {
            let (t, r, f) = round(server, &store, processes).await;
            times.push(t);
            refreshes.push(r);
            failures += f;
        }
        let reuse = server.stat("reuse_detected").await - reuse_before;
        let time = median(times);
        let base = *single.get_or_insert(time);
        let (lo, hi) = (refreshes.iter().min().unwrap(), refreshes.iter().max().unwrap());
        let spread = if lo == hi { lo.to_string() } else { format!("{lo}–{hi}") };
        println!("| {processes} | {spread} | {reuse} | {failures} | {:.1} ms | {:.2} |", time * 1000.0, time / base);
    }
    println!();
    let _ = std::fs::remove_file(&store);
}
