//! Several OS processes on one `FileTokenStore`, as an app and its extensions share one
//! Keychain item: each bursts requests right after the tokens expired. With the store's
//! refresh lock, one process refreshes and the others adopt what it saved: no refresh
//! token is spent twice, and nobody is signed out.

use refreshkit::{FileTokenStore, TokenStore};
use serde_json::json;

use crate::helpers::{AuthServer, SessionChild};

const ROUNDS: usize = 30;
const REQUESTS: usize = 50;

/// Fails without the lock: in most rounds two processes spent one refresh token.
async fn rounds_of_processes_bursting_after_expiry(processes: usize) {
    let server = AuthServer::start();
    let dir = std::env::temp_dir().join(format!("refreshkit-procs{processes}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.json");
    FileTokenStore::new(&path).save(server.login().await).unwrap();
    let mut refreshes_per_round = Vec::new();

    for round in 0..ROUNDS {
        server.expire_all().await;
        let before = server.stat("refreshes").await;
        let mut started: Vec<SessionChild> =
            (0..processes).map(|_| SessionChild::ready(&server.base_url(), &path, REQUESTS)).collect();
        started.iter_mut().for_each(SessionChild::go);
        let outcomes: Vec<String> = started.into_iter().map(SessionChild::outcome).collect();

        let all_ok = format!("ok={REQUESTS} expired=0 errors=0");
        for outcome in &outcomes {
            assert!(outcome.starts_with(&all_ok), "round {round}: {outcome}");
        }
        assert_eq!(server.stat("reuse_detected").await, 0, "round {round}: a refresh token was spent twice");
        assert!(FileTokenStore::new(&path).load().unwrap().is_some(), "round {round}: the store is readable");
        refreshes_per_round.push(server.stat("refreshes").await - before);
    }

    let total: u64 = refreshes_per_round.iter().sum();
    println!(
        "{processes} processes x {REQUESTS} requests, {ROUNDS} rounds: {total} refreshes ({:?} per round), \
         0 refresh tokens spent twice, 0 processes expired",
        refreshes_per_round.iter().copied().collect::<std::collections::BTreeSet<_>>()
    );
    assert_eq!(total, ROUNDS as u64, "one refresh per expiry across all processes");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_store_refresh_once_per_expiry() {
    rounds_of_processes_bursting_after_expiry(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_on_one_store_refresh_once_per_expiry() {
    rounds_of_processes_bursting_after_expiry(4).await;
}

/// A process killed while it holds the lock: the OS releases it, and the others go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_holding_the_refresh_lock_does_not_block_the_others() {
    let server = AuthServer::start();
    let dir = std::env::temp_dir().join(format!("refreshkit-lockkill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.json");
    FileTokenStore::new(&path).save(server.login().await).unwrap();
    server.expire_all().await;
    // The first process's refresh is held by the server: it holds the lock meanwhile.
    server.fault(json!({"kind": "delay", "ms": 0, "gated": true})).await;
    let mut holder = SessionChild::ready(&server.base_url(), &path, REQUESTS);
    holder.go();
    crate::helpers::eventually("the first process to be refreshing", || async {
        server.stat("refresh_requests").await == 1
    })
    .await;
    let lock = refreshkit::FileRefreshLock::new(dir.join("tokens.json.lock"));
    assert_eq!(refreshkit::RefreshLock::acquire(&lock, 0), Ok(false), "the lock is held");

    holder.child.kill().unwrap();
    holder.child.wait().unwrap();
    let mut next = SessionChild::ready(&server.base_url(), &path, REQUESTS);
    next.go();

    let outcome = next.outcome();
    assert!(outcome.starts_with(&format!("ok={REQUESTS} expired=0 errors=0")), "{outcome}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The auth server keeps every connection of the largest burst here (4 processes x 50)
/// while it is not scheduled: the kernel queues them until it accepts, however late. With
/// tokio's default backlog (128) the rest were dropped, and under load a request failed at
/// the connect timeout (15 s) while the server was only slow.
#[test]
fn the_auth_server_queues_a_whole_burst_of_connections_while_it_is_not_scheduled() {
    use std::io::{Read, Write};
    let server = AuthServer::start();
    let signal = |name: &str| {
        let sent = std::process::Command::new("kill").args([name, &server.pid().to_string()]).status().unwrap();
        assert!(sent.success(), "kill {name}");
    };
    signal("-STOP");
    let address: std::net::SocketAddr = ([127, 0, 0, 1], server.port()).into();
    // A connection the kernel queues completes its handshake at once; a dropped SYN is
    // sent again only a second later.
    let queued: Vec<std::net::TcpStream> = (0..4 * REQUESTS)
        .map(|i| {
            std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_millis(900))
                .unwrap_or_else(|e| panic!("connection {i} of {} was not queued: {e}", 4 * REQUESTS))
        })
        .collect();
    signal("-CONT");

    let mut last = queued.last().unwrap();
    last.write_all(b"GET /control/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    last.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "the last queued connection is served: {answer}");
}
