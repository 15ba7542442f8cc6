//! Section 10: the cost of DPoP. Two sessions on one server run with `--dpop`: one
//! holds Bearer tokens, one tokens bound to a software key, so every request of the
//! second carries a fresh ES256 proof (signed by the client, verified by the server).

use std::sync::Arc;
use std::time::{Duration, Instant};

use refreshkit::{software_dpop_key, FileTokenStore, HttpRequest, Session, SessionConfig};

use crate::median;
use crate::overhead::{self, Call};
use crate::server::AuthServer;

const ROUNDS: usize = 5;
const CALLS: usize = 300;

pub async fn bench_dpop() {
    let server = AuthServer::start_with(&["--dpop"]);
    let bearer = session(&server, None);
    bearer.sign_in(server.login().await).await.unwrap();
    let bound = session(&server, Some(()));
    bound.sign_in(server.login_with_proof(&bound).await).await.unwrap();
    let proof_url = format!("{}/api/resource", server.base_url());

    let (mut bearer_us, mut bound_us, mut proof_us) = (Vec::new(), Vec::new(), Vec::new());
    let (mut bearer_rate, mut bound_rate) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let order: [&Arc<Session>; 2] = if round % 2 == 0 { [&bearer, &bound] } else { [&bound, &bearer] };
        for s in order {
            let us = latency_us(s).await;
            let rate = throughput(s, 64, Duration::from_secs(1)).await;
            if Arc::ptr_eq(s, &bearer) {
                bearer_us.push(us);
                bearer_rate.push(rate);
            } else {
                bound_us.push(us);
                bound_rate.push(rate);
            }
        }
        let mut xs = Vec::with_capacity(CALLS);
        for _ in 0..CALLS {
            let t = Instant::now();
            bound.dpop_proof("GET".into(), proof_url.clone(), None).await.unwrap();
            xs.push(t.elapsed().as_secs_f64() * 1e6);
        }
        proof_us.push(median(xs));
    }
    assert_eq!(server.stat("dpop_refused").await, 0, "every proof was taken");

    let (b, d) = (median(bearer_us), median(bound_us));
    let (br, dr) = (median(bearer_rate), median(bound_rate));
    println!("## 10. DPoP against Bearer\n");
    println!("One auth server run with `--dpop`, two sessions side by side: Bearer tokens, and tokens");
    println!("bound to a software P-256 key (every request carries a new ES256 proof; the server");
    println!("verifies it). Client and server share the 2 cores, so the rate counts both sides' work.");
    println!("{ROUNDS} rounds, the order alternating; medians.\n");
    println!("| | Bearer | DPoP | DPoP vs Bearer |");
    println!("|---|---:|---:|---:|");
    println!("| c=1 latency, {CALLS} calls per round | {b:.0} µs | {d:.0} µs | {:.2} |", d / b);
    println!("| c=64 requests per second | {br:.0} | {dr:.0} | {:.2} |", dr / br);
    println!("| one proof (`dpop_proof`, signing included) | | {:.0} µs | |\n", median(proof_us));
}

fn session(server: &AuthServer, dpop: Option<()>) -> Arc<Session> {
    let path =
        std::env::temp_dir().join(format!("refreshkit-bench-dpop-{}-{}.json", std::process::id(), dpop.is_some()));
    let store = Arc::new(FileTokenStore::new(path));
    let config = SessionConfig::new(server.base_url());
    match dpop {
        Some(()) => Session::with_dpop(config, store, software_dpop_key(), None).unwrap(),
        None => Session::new(config, store, None).unwrap(),
    }
}

async fn latency_us(session: &Arc<Session>) -> f64 {
    let mut xs = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let t = Instant::now();
        assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
        xs.push(t.elapsed().as_secs_f64() * 1e6);
    }
    median(xs)
}

async fn throughput(session: &Arc<Session>, concurrency: usize, window: Duration) -> f64 {
    let session = session.clone();
    let call: Call = Arc::new(move || {
        let session = session.clone();
        Box::pin(async move {
            let response = session.execute(HttpRequest::get("/api/resource")).await.unwrap();
            assert_eq!(response.status, 200);
            response.body.len()
        })
    });
    overhead::throughput(concurrency, window, call).await
}
