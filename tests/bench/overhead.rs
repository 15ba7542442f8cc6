//! Section 2: Session::execute against bare reqwest on the same endpoint. Bare reqwest
//! runs on a 2-worker runtime (the benchmark's own) and on a 1-worker runtime (as the
//! library runs its own), and the library is held to the better of the two. Two more
//! bare clients show where the difference goes: the library's calls from a Rust caller
//! are polled on the caller's runtime while their sockets live on the library's.
//! `bench profile` runs one arrangement alone, for perf, with its allocations and the
//! worker's CPU time per request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use refreshkit::HttpRequest;
use tokio::runtime::{Builder, Handle, Runtime};

use crate::server::AuthServer;
use crate::{median, new_session, REPEATS};

pub(crate) type Call = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = usize> + Send>> + Send + Sync>;

/// One way of sending the request.
struct Variant {
    call: Call,
    /// The runtime its calls run on as tasks; None: polled in place by the caller.
    runtime: Option<Handle>,
    /// Whether the latency counts the hop to that runtime and back.
    timed_from_caller: bool,
}

impl Variant {
    fn in_place(call: Call) -> Variant {
        Variant { call, runtime: None, timed_from_caller: false }
    }

    fn on(runtime: &Runtime, call: Call, timed_from_caller: bool) -> Variant {
        Variant { call, runtime: Some(runtime.handle().clone()), timed_from_caller }
    }

    /// Runs `fut` where this variant's calls run.
    async fn run<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> T {
        match &self.runtime {
            None => fut.await,
            Some(handle) => handle.spawn(fut).await.unwrap(),
        }
    }

    async fn latency_us(&self) -> f64 {
        let call = self.call.clone();
        let t = Instant::now();
        let inner = self.run(async move { (call().await, t.elapsed()) }).await.1;
        let elapsed = if self.timed_from_caller { t.elapsed() } else { inner };
        elapsed.as_secs_f64() * 1e6
    }
}

/// A bare client of its own, so no connection is shared between variants.
fn bare_call(url: &str, auth: &str) -> Call {
    let (bare, url, auth) = (reqwest::Client::new(), url.to_string(), auth.to_string());
    Arc::new(move || {
        let request = bare.get(&url).header("Authorization", &auth);
        Box::pin(async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "bare reqwest is compared on served requests only");
            response.bytes().await.unwrap().len()
        })
    })
}

/// The body's length of a served answer; the library is compared on served requests only.
fn served(answer: Result<refreshkit::HttpResponse, refreshkit::SessionError>) -> usize {
    let response = answer.unwrap();
    assert_eq!(response.status, 200, "the library is compared on served requests only");
    response.body.len()
}

/// A bare client polled by its caller with `sockets` entered, as the library polls a
/// Rust caller's call: connections and their tasks live on `sockets`.
fn bare_call_entered(url: &str, auth: &str, sockets: &Runtime) -> Call {
    let (call, sockets) = (bare_call(url, auth), sockets.handle().clone());
    Arc::new(move || Box::pin(Entered { sockets: sockets.clone(), fut: call() }))
}

struct Entered {
    sockets: Handle,
    fut: Pin<Box<dyn Future<Output = usize> + Send>>,
}

impl Future for Entered {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let _entered = self.sockets.enter();
        self.fut.as_mut().poll(cx)
    }
}

fn one_worker() -> Runtime {
    // Like the library's runtime (src/foundation/runtime.rs): multi-thread, one worker.
    Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

/// A server of its own whose tokens outlive the section: the bare clients' token stays
/// valid (4 s tokens would turn their answers into 401s), and no refresh interrupts.
fn long_lived_tokens_server() -> AuthServer {
    AuthServer::start_with(&["--access-ttl-ms", "3600000"])
}

pub async fn bench_overhead() {
    let server = &long_lived_tokens_server();
    let session = new_session(server);
    let tokens = server.login().await;
    session.sign_in(tokens.clone()).await.unwrap();
    let url = format!("{}/api/resource", server.base_url());
    let auth = format!("Bearer {}", tokens.access_token);
    let session_call: Call = Arc::new(move || {
        let session = session.clone();
        Box::pin(async move { served(session.execute(HttpRequest::get("/api/resource")).await) })
    });
    // The same library with a Rust app's best arrangement: its calls and sockets on the
    // app's own 1-worker runtime (`use_callers_runtime`).
    let own = new_session(server);
    own.use_callers_runtime();
    own.sign_in(tokens.clone()).await.unwrap();
    let own_call: Call = Arc::new(move || {
        let session = own.clone();
        Box::pin(async move { served(session.execute(HttpRequest::get("/api/resource")).await) })
    });
    // Bare reqwest on a 1-worker runtime and the library with `use_callers_runtime` share
    // one runtime (the app's), so they are compared on the same thread: identical bare
    // clients on two different 1-worker runtimes differed by up to 25 % at c=1 here.
    let runtimes = [one_worker(), one_worker(), one_worker()];
    let variants = [
        Variant::in_place(bare_call(&url, &auth)),
        Variant::on(&runtimes[0], bare_call(&url, &auth), false),
        Variant::in_place(session_call),
        Variant::on(&runtimes[1], bare_call(&url, &auth), true),
        Variant::in_place(bare_call_entered(&url, &auth, &runtimes[2])),
        Variant::on(&runtimes[0], own_call, false),
    ];
    let n = variants.len();

    // Concurrency 1: median latency, the variants alternating call by call, the order
    // rotated each round so none always follows the same one.
    for _ in 0..200 {
        for v in &variants {
            v.latency_us().await;
        }
    }
    let mut latency = vec![Vec::new(); n];
    for round in 0..REPEATS {
        let mut xs = vec![Vec::new(); n];
        for _ in 0..500 {
            for k in 0..n {
                let i = (k + round) % n;
                xs[i].push(variants[i].latency_us().await);
            }
        }
        for (i, x) in xs.into_iter().enumerate() {
            latency[i].push(median(x));
        }
    }

    // Concurrency 64: requests per second over 1 s windows, block by block (the bare
    // clients and both arrangements of the library).
    let window = Duration::from_secs(1);
    let timed = [0, 1, 2, 5];
    let mut rate = vec![Vec::new(); n];
    for round in 0..REPEATS {
        for k in 0..timed.len() {
            let i = timed[(k + round) % timed.len()];
            rate[i].push(variants[i].run(throughput(64, window, variants[i].call.clone())).await);
        }
    }
    runtimes.into_iter().for_each(Runtime::shutdown_background);

    let latency_ratio =
        |i: usize| -> f64 { median((0..REPEATS).map(|r| latency[i][r] / latency[0][r].min(latency[1][r])).collect()) };
    let rate_ratio =
        |i: usize| -> f64 { median((0..REPEATS).map(|r| rate[i][r] / rate[0][r].max(rate[1][r])).collect()) };
    let (worse_latency, worse_rate) = (latency_ratio(2), rate_ratio(2));
    let (own_latency, own_rate) = (latency_ratio(5), rate_ratio(5));
    // Against bare reqwest on the very runtime the app's calls ran on.
    let own_latency_there = median((0..REPEATS).map(|r| latency[5][r] / latency[1][r]).collect());
    let own_rate_there = median((0..REPEATS).map(|r| rate[5][r] / rate[1][r]).collect());
    let l: Vec<f64> = latency.into_iter().map(median).collect();
    let t: Vec<f64> = rate.into_iter().map(|x| if x.is_empty() { 0.0 } else { median(x) }).collect();
    println!("## 2. Steady-state overhead: Session::execute against a bare reqwest client\n");
    println!("Same endpoint, a token valid throughout (no refresh), every answer checked to be a 200,");
    println!("{REPEATS} rounds. Bare reqwest runs on a 2-worker tokio runtime (the benchmark's) and on a 1-worker");
    println!("one (as the library runs its own); they alternate call by call (c=1) or block by block (c=64).");
    println!("The ratio is the median over rounds of the library against the better bare client of each");
    println!("round, so the worse of its two ratios.\n");
    println!("| concurrency | bare reqwest, 2 workers | bare reqwest, 1 worker | Session::execute | ratio to the better | goal |");
    println!("|---:|---:|---:|---:|---:|---|");
    println!(
        "| 1 | {:.0} µs median latency | {:.0} µs | {:.0} µs | {:.3} (latency) | ≤ 1.05 |",
        l[0], l[1], l[2], worse_latency
    );
    println!(
        "| 64 | {:.0} req/s | {:.0} req/s | {:.0} req/s | {:.3} (throughput) | ≥ 0.95 |\n",
        t[0], t[1], t[2], worse_rate
    );
    println!("A Rust app can keep the library's sockets on its own runtime (`Session::use_callers_runtime`):");
    println!("the same comparison, the app's runtime being a 1-worker one, called and timed there; bare");
    println!("reqwest's 1-worker client runs on that same runtime, call by call (block by block) with it:\n");
    println!("| concurrency | Session::execute, `use_callers_runtime` | ratio to the better bare client | ratio to bare reqwest on the same runtime | goal |");
    println!("|---:|---:|---:|---:|---|");
    println!(
        "| 1 | {:.0} µs median latency | {:.3} (latency) | {:.3} | ≤ 1.05 |",
        l[5], own_latency, own_latency_there
    );
    println!("| 64 | {:.0} req/s | {:.3} (throughput) | {:.3} | ≥ 0.95 |\n", t[5], own_rate, own_rate_there);
    println!("Where the difference goes at c=1 (the same rounds): a Rust caller's call is polled on the");
    println!("caller's runtime (here the 2-worker one) while its sockets live on the library's 1-worker");
    println!("runtime, so each socket event crosses threads. Bare reqwest arranged the same way:\n");
    println!("| bare reqwest | median latency | vs 1 worker |");
    println!("|---|---:|---:|");
    println!("| on a 1-worker runtime, timed there | {:.0} µs | 1.00 |", l[1]);
    println!("| spawned on a 1-worker runtime, timed from the caller's | {:.0} µs | {:.2} |", l[3], l[3] / l[1]);
    println!(
        "| polled by the caller, sockets on a 1-worker runtime (the library's arrangement) | {:.0} µs | {:.2} |",
        l[4],
        l[4] / l[1]
    );
    println!("| (Session::execute, for comparison) | {:.0} µs | {:.2} |\n", l[2], l[2] / l[1]);
}

/// One arrangement alone at `concurrency` for `seconds`, on a 1-worker runtime, so a profile
/// shows only its work: `bare` reqwest, the `library` on its own runtime, or with
/// `callers` (`use_callers_runtime`).
pub async fn profile_one(arrangement: &str, seconds: u64, concurrency: usize) {
    let server = &long_lived_tokens_server();
    let tokens = server.login().await;
    let url = format!("{}/api/resource", server.base_url());
    let call = match arrangement {
        "bare" => bare_call(&url, &format!("Bearer {}", tokens.access_token)),
        "library" | "callers" => {
            let session = new_session(server);
            if arrangement == "callers" {
                session.use_callers_runtime();
            }
            session.sign_in(tokens).await.unwrap();
            Arc::new(move || {
                let session = session.clone();
                Box::pin(async move { served(session.execute(HttpRequest::get("/api/resource")).await) })
                    as Pin<Box<dyn Future<Output = usize> + Send>>
            }) as Call
        }
        other => panic!("bench profile: unknown arrangement {other:?} (bare, library, callers)"),
    };
    let runtime = one_worker();
    // A short warm-up first, so connections and buffers are not counted.
    runtime.handle().spawn(throughput(concurrency, Duration::from_millis(300), call.clone())).await.unwrap();
    let before = crate::allocations::so_far();
    let cpu_before = runtime.handle().spawn(async { worker_cpu_ns() }).await.unwrap();
    let rate = runtime.handle().spawn(throughput(concurrency, Duration::from_secs(seconds), call)).await.unwrap();
    let cpu = runtime.handle().spawn(async { worker_cpu_ns() }).await.unwrap() - cpu_before;
    let requests = rate * seconds as f64;
    let allocations = (crate::allocations::so_far() - before) as f64 / requests;
    runtime.shutdown_background();
    println!(
        "{arrangement}: {rate:.0} req/s at c={concurrency} over {seconds} s, {allocations:.1} allocations and {:.1} µs of the worker's CPU per request",
        cpu as f64 / 1e3 / requests
    );
}

/// Time the calling thread has spent on a CPU, from the kernel's scheduler statistics.
fn worker_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    stat.split_whitespace().next().and_then(|ns| ns.parse().ok()).unwrap_or(0)
}

/// Requests per second from `concurrency` callers looping on `call` for `window`.
pub(crate) async fn throughput(concurrency: usize, window: Duration, call: Call) -> f64 {
    let deadline = Instant::now() + window;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    call().await;
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for w in workers {
        total += w.await.unwrap();
    }
    total as f64 / window.as_secs_f64()
}
