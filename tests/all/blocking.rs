//! The blocking entry points (for OkHttp threads and executors) and the token lease
//! the OkHttp interceptor reuses while the session says it is current.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use refreshkit::{
    refreshkit_token_lease_is_current as is_current, CallbackError, HttpRequest, Session, SessionError, SessionEvent,
    SessionListener, SessionState, TokenLease, Tokens,
};
use serde_json::json;

use crate::helpers::{session_with, signed_in_then_expired, AuthServer, Expired, MemoryStore};

/// A session with the default config and a store of its own.
fn plain_session(server: &AuthServer) -> Arc<Session> {
    session_with(server, Arc::new(MemoryStore::default()), |_| {}).0
}

async fn lease_of(session: &Arc<Session>) -> Result<TokenLease, SessionError> {
    let session = Arc::clone(session);
    on_plain_thread(move || session.access_token_lease_blocking()).await
}

/// Runs `f` on a plain thread, as a JVM or Swift thread calls in: no tokio runtime.
async fn on_plain_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(move || std::thread::spawn(f).join().unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_calls_on_plain_threads_share_one_refresh() {
    let Expired { server, session, first, .. } = signed_in_then_expired().await;

    let threads: Vec<_> = (0..16)
        .map(|_| {
            let session = Arc::clone(&session);
            std::thread::spawn(move || session.execute_blocking(HttpRequest::get("/api/resource")).map(|r| r.status))
        })
        .collect();
    let statuses: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    assert!(statuses.iter().all(|s| s == &Ok(200)), "{statuses:?}");
    assert_eq!(server.stat("refreshes").await, 1);
    let s = Arc::clone(&session);
    let token = on_plain_thread(move || s.access_token_blocking()).await.unwrap();
    assert_ne!(token, first.access_token);
    let s = Arc::clone(&session);
    let again = on_plain_thread(move || s.refresh_after_unauthorized_blocking(first.access_token)).await.unwrap();
    assert_eq!(again, token, "the rejected token was already replaced: no second refresh");
    assert_eq!(server.stat("refreshes").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_call_on_a_runtime_thread_is_refused_not_stalled() {
    let Expired { server: _server, session, .. } = signed_in_then_expired().await;

    let error = session.execute_blocking(HttpRequest::get("/api/resource")).unwrap_err();

    assert!(matches!(error, SessionError::InvalidRequest { .. }), "{error:?}");
    assert!(error.to_string().contains("async form"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_is_current_until_its_token_is_replaced_or_the_user_signs_out() {
    let Expired { server, session, .. } = signed_in_then_expired().await;
    let first = lease_of(&session).await.unwrap();
    assert_eq!(is_current(first.session_id, first.generation), 1);
    assert_eq!(is_current(first.session_id + 1000, first.generation), 0, "an unknown session");
    assert_eq!(is_current(first.session_id, first.generation + 1), 0, "another generation");

    // The server rejects the token; the replay refreshes: the lease is stale now.
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(is_current(first.session_id, first.generation), 0);
    let second = lease_of(&session).await.unwrap();
    assert_ne!(second.access_token, first.access_token);
    assert_eq!((second.session_id, is_current(second.session_id, second.generation)), (first.session_id, 1));

    session.sign_out().await.unwrap();
    assert_eq!(is_current(second.session_id, second.generation), 0);
    assert!(matches!(lease_of(&session).await, Err(SessionError::NotSignedIn)));
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_of_a_dropped_session_is_never_current() {
    let Expired { server: _server, session, .. } = signed_in_then_expired().await;
    let s = Arc::clone(&session);
    let lease = on_plain_thread(move || s.access_token_lease_blocking()).await.unwrap();

    drop(session);

    assert_eq!(is_current(lease.session_id, lease.generation), 0);
    assert!(!format!("{lease:?} {lease}").contains(&lease.access_token), "Debug and Display redact the token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_is_not_current_while_a_refresh_is_in_flight() {
    let Expired { server, session, .. } = signed_in_then_expired().await;
    let lease = lease_of(&session).await.unwrap();
    server.fault(json!({"kind": "delay", "ms": 0, "gated": true})).await;

    let replay = tokio::spawn({
        let session = Arc::clone(&session);
        async move { session.execute(HttpRequest::get("/api/resource")).await }
    });
    let refreshing = async {
        while session.state() != SessionState::Refreshing {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), refreshing).await.expect("the refresh started");

    assert_eq!(is_current(lease.session_id, lease.generation), 0, "requests must wait for the refresh");
    server.post_json("/control/release", json!({})).await;
    assert_eq!(replay.await.unwrap().unwrap().status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_stops_being_current_within_the_leeway_before_expiry() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    let login = server.login().await;
    // Expires in 4 s: the leeway (capped at half the lifetime) begins at about 2 s.
    let expires_at = SystemTime::now() + Duration::from_secs(4);
    session.sign_in(Tokens { expires_at: Some(expires_at), ..login }).await.unwrap();
    let lease = lease_of(&session).await.unwrap();
    assert_eq!(is_current(lease.session_id, lease.generation), 1);

    tokio::time::sleep(Duration::from_millis(2500)).await;

    assert_eq!(is_current(lease.session_id, lease.generation), 0, "a proactive refresh is due");
    let next = lease_of(&session).await.unwrap();
    assert_ne!(next.generation, lease.generation);
    assert_eq!(server.stat("refreshes").await, 1);
}

/// A listener that sends a request the blocking way on each event, as an app calling
/// OkHttp (through the interceptor) from its listener would.
#[derive(Default)]
struct RequestingListener {
    session: OnceLock<Arc<Session>>,
    statuses: Mutex<Vec<Result<u16, SessionError>>>,
}

impl SessionListener for RequestingListener {
    fn on_event(&self, _event: SessionEvent) -> Result<(), CallbackError> {
        if let Some(session) = self.session.get() {
            let status = session.execute_blocking(HttpRequest::get("/api/resource")).map(|r| r.status);
            self.statuses.lock().unwrap().push(status);
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_may_use_the_blocking_calls() {
    let server = AuthServer::start();
    let listener = Arc::new(RequestingListener::default());
    let config = refreshkit::SessionConfig::new(server.base_url());
    let session = Session::new(config, Arc::new(MemoryStore::default()), Some(listener.clone())).unwrap();
    let _ = listener.session.set(Arc::clone(&session));
    session.sign_in(server.login().await).await.unwrap();
    server.expire_all().await;

    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);

    let delivered = async {
        while listener.statuses.lock().unwrap().len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), delivered).await.expect("the listener got its events");
    let statuses = listener.statuses.lock().unwrap().clone();
    assert!(statuses.iter().all(|s| s == &Ok(200)), "{statuses:?}");
}

/// Fails when the option changes nothing: the request's connection would live on the
/// library's runtime, and the caller's would have no task for it.
#[tokio::test(flavor = "current_thread")]
async fn a_rust_app_can_keep_the_sessions_sockets_on_its_own_runtime() {
    let server = AuthServer::start();
    let on_library = plain_session(&server);
    let on_app = plain_session(&server);
    on_app.use_callers_runtime();
    let runtime = tokio::runtime::Handle::current();
    // The test's own client (logins, controls) keeps its connection on this runtime too:
    // it is made before counting.
    on_library.sign_in(server.login().await).await.unwrap();
    on_app.sign_in(server.login().await).await.unwrap();
    server.expire_all().await;
    let tasks = runtime.metrics().num_alive_tasks();

    assert_eq!(on_library.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert_eq!(runtime.metrics().num_alive_tasks(), tasks, "the connection lives on the library's runtime");
    assert_eq!(on_app.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
    assert!(runtime.metrics().num_alive_tasks() > tasks, "the pooled connection's task runs on the app's runtime");
    assert_eq!(server.stat("refreshes").await, 2, "the refreshes still run, on the library's runtime");
}

/// A session whose calls kept their sockets on a runtime that has since shut down keeps
/// working from the next runtime: the dead runtime's pooled connections are not reused.
#[test]
fn a_session_on_the_callers_runtime_outlives_that_runtime() {
    let server = AuthServer::start();
    let session = plain_session(&server);
    session.use_callers_runtime();
    // Eight calls at once on a new runtime, so several connections are open when it goes.
    let statuses_on_a_new_runtime = || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        runtime.block_on(async {
            if session.state() != SessionState::Active {
                session.sign_in(server.login().await).await.unwrap();
            }
            let calls: Vec<_> = (0..8)
                .map(|_| {
                    let session = session.clone();
                    tokio::spawn(async move { session.execute(HttpRequest::get("/api/resource")).await })
                })
                .collect();
            let mut statuses = Vec::new();
            for call in calls {
                statuses.push(call.await.unwrap().map(|r| r.status).map_err(|e| e.to_string()));
            }
            statuses
        })
    };

    assert_eq!(statuses_on_a_new_runtime(), vec![Ok(200); 8]);
    for _ in 0..3 {
        assert_eq!(statuses_on_a_new_runtime(), vec![Ok(200); 8], "a later runtime's calls are served");
    }
}

/// Failed before each caller's runtime had a client of its own: the connections a runtime
/// opened and then left idle were handed to a `_blocking` call, to a call from another
/// runtime and to the refresh, and each waited for the idle runtime until it timed out.
#[test]
fn connections_opened_on_an_idle_callers_runtime_serve_only_that_runtime() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |c| c.request_timeout_ms = 3_000);
    session.use_callers_runtime();
    let get = || HttpRequest::get("/api/resource");
    // The test's own client (logins, controls) stays on this one.
    let other = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let tokens = other.block_on(server.login());
    // Idle as soon as `block_on` returns: a current-thread runtime runs only inside it.
    let idle = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    idle.block_on(async {
        session.sign_in(tokens).await.unwrap();
        // Several at once, so several connections open.
        let calls: Vec<_> = (0..4)
            .map(|_| {
                let session = session.clone();
                tokio::spawn(async move { session.execute(HttpRequest::get("/api/resource")).await })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap().unwrap().status, 200);
        }
    });

    let blocking = std::thread::spawn({
        let session = session.clone();
        move || session.execute_blocking(HttpRequest::get("/api/resource"))
    });
    assert_eq!(blocking.join().unwrap().map(|r| r.status), Ok(200), "a _blocking call");
    assert_eq!(other.block_on(session.execute(get())).map(|r| r.status), Ok(200), "a call on another runtime");
    other.block_on(server.expire_all());
    assert_eq!(other.block_on(session.execute(get())).map(|r| r.status), Ok(200), "a call that needs a refresh");
    assert_eq!(other.block_on(server.stat("refreshes")), 1);
    drop(idle);
}

/// Fails when a call on such a runtime ended as `Internal` ("the library panicked").
#[test]
fn the_callers_runtime_without_io_or_timers_is_a_config_error_not_a_crash() {
    let server = AuthServer::start();
    let session = plain_session(&server);
    let full = tokio::runtime::Runtime::new().unwrap();
    full.block_on(async { session.sign_in(server.login().await).await }).unwrap();
    session.use_callers_runtime();
    let without_drivers = tokio::runtime::Builder::new_current_thread().build().unwrap();

    let answer = without_drivers.block_on(session.execute(HttpRequest::get("/api/resource")));

    assert!(
        matches!(&answer, Err(refreshkit::SessionError::InvalidConfig { detail }) if detail.contains("enable_all")),
        "{answer:?}"
    );
    let served = full.block_on(session.execute(HttpRequest::get("/api/resource")));
    assert_eq!(served.map(|r| r.status), Ok(200), "the session goes on from a runtime that has them");
}
