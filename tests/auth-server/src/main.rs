//! A local auth server for refreshkit's tests, demo and benchmarks. It listens on
//! loopback only and prints `listening on 127.0.0.1:PORT` as its first line.
//!
//! Usage: auth-server [--port N] [--access-ttl-ms N] [--client-credential S] [--basic-client ID:SECRET] [--opaque-tokens] [--dpop | --dpop-nonce] [--exit-on-stdin-eof]

mod chunks;
mod dpop;
mod dpop_http;
mod faults;
mod issuer;
mod routes;

use std::sync::{Arc, Mutex};

use issuer::Issuer;

fn main() {
    let mut port = 0u16;
    let mut access_ttl_ms = 60_000u64;
    let mut credential = "demo-client-credential".to_owned();
    let mut opaque_tokens = false;
    let mut basic_client = None;
    let mut dpop = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--exit-on-stdin-eof" {
            exit_when_stdin_closes();
            continue;
        }
        if flag == "--opaque-tokens" {
            opaque_tokens = true;
            continue;
        }
        if flag == "--dpop" || flag == "--dpop-nonce" {
            dpop = Some(flag == "--dpop-nonce");
            continue;
        }
        let value = args.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--port" => port = value.parse().unwrap_or_else(|_| usage("--port takes a number")),
            "--access-ttl-ms" => {
                access_ttl_ms = value.parse().unwrap_or_else(|_| usage("--access-ttl-ms takes a number"))
            }
            "--client-credential" => credential = value,
            "--basic-client" => basic_client = Some(value),
            other => usage(&format!("unknown flag {other}")),
        }
    }
    faults::silence_dropped_connection_panics();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        println!("listening on {address}");
        let mut issuer = Issuer::new(access_ttl_ms, credential);
        issuer.opaque_tokens = opaque_tokens;
        issuer.basic_client = basic_client;
        issuer.dpop = dpop.map(dpop::DpopRules::new);
        let state = Arc::new(Mutex::new(issuer));
        axum::serve(listener, routes::router(state)).await.expect("serve");
    });
}

/// Lets a test harness that dies without cleaning up take the server with it: the
/// harness holds the other end of stdin, and the kernel closes it when the harness exits.
fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        std::process::exit(0);
    });
}

fn usage(problem: &str) -> ! {
    eprintln!("auth-server: {problem}\nusage: auth-server [--port N] [--access-ttl-ms N] [--client-credential S] [--basic-client ID:SECRET] [--opaque-tokens] [--dpop | --dpop-nonce] [--exit-on-stdin-eof]");
    std::process::exit(2)
}
