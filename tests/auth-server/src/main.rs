//! A local auth server for refreshkit's tests, demo and benchmarks. It listens on
//! loopback only and prints `listening on 127.0.0.1:PORT` as its first line.
//!
//! Usage: auth-server [--port N] [--access-ttl-ms N] [--client-credential S] [--basic-client ID:SECRET] [--opaque-tokens] [--dpop | --dpop-nonce] [--exit-on-stdin-eof]

mod challenge;
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
        let listener = listen_on_loopback(port);
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

/// The listening socket, with room in its accept queue for every connection of a burst.
/// `TcpListener::bind` asks for a backlog of 128: the four-process test opens 200
/// connections at once, and under load (the server's threads not scheduled for a while)
/// the kernel drops the SYNs past 128; each is sent again 1, 3, 7 and 15 s later, and the
/// request fails at the session's connect timeout (15 s), whatever the session does. With
/// 1024 (the kernel caps it at `net.core.somaxconn`, 4096 by default) a burst waits in the
/// queue until the server accepts it, however late.
fn listen_on_loopback(port: u16) -> tokio::net::TcpListener {
    const BACKLOG: u32 = 1024;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.bind(([127, 0, 0, 1], port).into()).expect("bind loopback");
    socket.listen(BACKLOG).expect("listen")
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
