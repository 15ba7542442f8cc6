use std::sync::Arc;

use refreshkit::{HttpHeader, HttpRequest, HttpResponse, SessionError};
use serde_json::{json, Value};

use crate::helpers::{session_with, signed_in_then_expired, AuthServer, Expired, MemoryStore};

fn authorization_seen(response: &HttpResponse) -> Option<String> {
    let body: Value = serde_json::from_slice(&response.body).expect("echo body");
    body["headers"]["authorization"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_goes_to_the_base_host_and_nowhere_else() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    let tokens = server.login().await;
    session.sign_in(tokens.clone()).await.unwrap();

    let own = session.execute(HttpRequest::get("/echo")).await.unwrap();
    assert_eq!(authorization_seen(&own), Some(format!("Bearer {}", tokens.access_token)));

    // Same server, another host name: not on the allowed list.
    let foreign_url = format!("http://localhost:{}/echo", server.port());
    let mut foreign = HttpRequest::get(foreign_url.clone());
    foreign.headers.push(HttpHeader { name: "Authorization".into(), value: "Bearer app-copy".into() });
    let answer = session.execute(foreign).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(authorization_seen(&answer), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_is_not_followed_with_the_token() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    session.sign_in(server.login().await).await.unwrap();

    let away = format!("/redirect?to=http://localhost:{}/echo", server.port());
    let stopped = session.execute(HttpRequest::get(away)).await.unwrap();
    assert_eq!(stopped.status, 302, "handed back to the app instead of followed");

    let within = session.execute(HttpRequest::get("/redirect?to=/echo")).await.unwrap();
    assert_eq!(within.status, 200);
    assert!(authorization_seen(&within).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_token_hosts_receive_the_token() {
    let server = AuthServer::start();
    let (session, _) =
        session_with(&server, Arc::new(MemoryStore::default()), |c| c.token_hosts = vec!["LOCALHOST".into()]);
    session.sign_in(server.login().await).await.unwrap();

    let answer = session.execute(HttpRequest::get(format!("http://localhost:{}/echo", server.port()))).await.unwrap();

    assert!(authorization_seen(&answer).is_some());
}

/// Fails before every hop passed the transport rules: the redirect was followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_plain_http_on_a_token_host_is_not_followed() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |c| {
        c.token_hosts = vec!["api.example.invalid".into()];
    });
    session.sign_in(server.login().await).await.unwrap();

    for status in [301, 302, 303, 307, 308] {
        let away = format!("/redirect?status={status}&to=http://api.example.invalid/echo");
        let get = session.execute(HttpRequest::get(away.clone())).await.unwrap();
        assert_eq!(get.status, status, "handed back to the app instead of followed");
        let post = session.execute(HttpRequest::post(away, b"{}".to_vec())).await.unwrap();
        assert_eq!(post.status, status, "a {status} never re-posts the body to plain http");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_redirect_status_within_the_token_host_is_followed_with_the_token() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    session.sign_in(server.login().await).await.unwrap();

    for status in [301, 302, 303, 307, 308] {
        let within = session.execute(HttpRequest::get(format!("/redirect?status={status}&to=/echo"))).await.unwrap();
        assert_eq!(within.status, 200);
        assert!(authorization_seen(&within).is_some());
    }
}

/// Fails before the refresh call had a client of its own: the 307 re-posted the
/// refresh token to wherever it pointed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresh_call_follows_no_redirect() {
    let Expired { server, session, .. } = signed_in_then_expired().await;
    server.fault(json!({"kind": "redirect", "status": 307, "location": "/oauth/token"})).await;

    let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();

    assert!(matches!(error, SessionError::Network { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(server.stat("refresh_requests").await, 1, "the refresh token was posted once, to its endpoint");
    assert_eq!(session.execute(HttpRequest::get("/api/resource")).await.unwrap().status, 200);
}

/// Proxies from the environment are ignored (a phone's environment is not the user's
/// proxy setting): a process with every proxy variable pointing at a dead port still
/// reaches the server directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_variables_in_the_environment_are_ignored() {
    let server = AuthServer::start();
    let path = std::env::temp_dir().join(format!("refreshkit-proxy-{}.json", std::process::id()));
    refreshkit::TokenStore::save(&refreshkit::FileTokenStore::new(&path), server.login().await).unwrap();
    let child = crate::helpers::child_binary();

    let mut command = std::process::Command::new(child);
    command.arg(server.base_url()).arg(&path);
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
        command.env(name, "http://127.0.0.1:9");
    }
    command.env_remove("NO_PROXY").env_remove("no_proxy");
    let out = command.output().unwrap();

    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok 200");
    std::fs::remove_file(&path).unwrap();
}

/// A URL's user name and password are never sent (reqwest would put them in HTTP/2's
/// `:authority`, or in a Basic header on the refresh call) nor signed into a proof: such
/// a URL is refused, in a request, a redirect hop, the platform layers' rules and the
/// configuration. Fails before: the request was sent, with the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_with_a_user_name_or_password_is_refused_and_never_sent() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    let tokens = server.login().await;
    session.sign_in(tokens.clone()).await.unwrap();
    let with_password = format!("http://alice:s3cret@127.0.0.1:{}/echo", server.port());

    let refused = session.execute(HttpRequest::get(with_password.clone())).await.map(|r| r.status);
    assert!(matches!(refused, Err(SessionError::InvalidRequest { .. })), "{refused:?}");
    let hop = session.execute(HttpRequest::get(format!("/redirect?to={with_password}"))).await.unwrap();
    assert_eq!(hop.status, 302, "handed back to the app instead of followed");
    assert!(!session.may_receive_token(with_password.clone()));
    assert_eq!(session.token_header_for(with_password, tokens.access_token), None);

    let mut config = refreshkit::SessionConfig::new(server.base_url());
    config.refresh_path = format!("http://bob:hunter2@127.0.0.1:{}/oauth/token", server.port());
    let built = refreshkit::Session::new(config, Arc::new(MemoryStore::default()), None).map(|_| ());
    assert!(matches!(built, Err(SessionError::InvalidConfig { .. })), "{built:?}");
}

/// reqwest drops `Authorization` on every change of host or port, so before the engine
/// followed redirects itself, a hop from one token host to another arrived without the
/// token: its 401 spent a refresh, and the replay got 401 again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_between_token_hosts_carries_the_token_and_spends_no_refresh() {
    let server = AuthServer::start();
    let (session, _) =
        session_with(&server, Arc::new(MemoryStore::default()), |c| c.token_hosts = vec!["localhost".into()]);
    let tokens = server.login().await;
    session.sign_in(tokens.clone()).await.unwrap();
    let other_host = format!("http://localhost:{}", server.port());

    // What each hop's end saw: the status, and whether the token arrived.
    let mut seen = Vec::new();
    for status in [301, 302, 303, 307, 308] {
        let hop = session.execute(HttpRequest::get(format!("/redirect?status={status}&to={other_host}/echo"))).await;
        let hop = hop.unwrap();
        let carried = authorization_seen(&hop) == Some(format!("Bearer {}", tokens.access_token));
        seen.push((format!("{status} to /echo"), hop.status, Some(carried)));
    }
    let back = format!("{other_host}/redirect?to={}/api/resource", server.base_url());
    for url in [format!("/redirect?status=307&to={other_host}/api/resource"), back] {
        let post = session.execute(HttpRequest::post(url.clone(), b"{}".to_vec())).await.unwrap();
        let what = url.replace(&other_host, "localhost").replace(&server.base_url(), "127.0.0.1");
        seen.push((what, post.status, None));
    }
    let refreshes = server.stat("refresh_requests").await;

    let expected: Vec<_> = seen.iter().map(|(what, _, echo)| (what.clone(), 200, echo.map(|_| true))).collect();
    assert_eq!((seen, refreshes), (expected, 0), "every hop carried the token; no refresh was spent");
    assert_eq!(session.metrics().replays, 0);
}

/// The other half: a hop that may not receive the token never gets it, and an answer
/// from a hop that carried no token never spends a refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_a_host_that_may_not_receive_the_token_carries_none_and_spends_no_refresh() {
    let server = AuthServer::start();
    let (session, _) = session_with(&server, Arc::new(MemoryStore::default()), |_| {});
    session.sign_in(server.login().await).await.unwrap();
    let foreign = format!("http://localhost:{}", server.port());

    let away = session.execute(HttpRequest::get(format!("/redirect?to={foreign}/api/resource"))).await.unwrap();
    assert_eq!(away.status, 302, "handed back to the app, never sent on with the token");
    // Starting at a host that may not receive the token, the hop to the token host
    // carries none, and its 401 is the app's.
    let to_home = format!("{foreign}/redirect?to={}/api/resource", server.base_url());
    let unauthorized = session.execute(HttpRequest::get(to_home)).await.unwrap();
    assert_eq!(unauthorized.status, 401);

    assert_eq!(server.stat("refresh_requests").await, 0);
    assert_eq!(session.metrics().replays, 0);
}
