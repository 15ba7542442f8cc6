//! No token in logs (at any level), `Debug` output or error text.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use refreshkit::{
    install_logger, CallbackError, HttpRequest, LogLevel, LogRecord, Logger, RefreshProtocol, Session, SessionConfig,
};
use serde_json::json;

use crate::helpers::{session_with, AuthServer, MemoryStore};

/// Keeps every line; like an app's logger that shows the session's state beside each
/// line, it calls the session back, which must not deadlock with a record logged while
/// the session's state is locked.
#[derive(Default)]
struct Capture {
    lines: Mutex<Vec<String>>,
    session: OnceLock<Arc<Session>>,
}

impl Logger for Capture {
    fn log(&self, record: LogRecord) -> Result<(), CallbackError> {
        let state = self.session.get().map(|s| s.state());
        self.lines.lock().unwrap().push(format!("{:?} {} {} {state:?}", record.level, record.target, record.message));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_appears_in_logs_debug_output_or_errors() {
    // A logger that deadlocked with the session would hang here rather than fail.
    tokio::time::timeout(Duration::from_secs(60), check_logs_debug_output_and_errors()).await.expect("hung");
}

async fn check_logs_debug_output_and_errors() {
    let capture = Arc::new(Capture::default());
    install_logger(capture.clone(), LogLevel::Trace);
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, recorder) = session_with(&server, store.clone(), |_| {});
    let _ = capture.session.set(session.clone());
    let first = server.login().await;
    session.sign_in(first.clone()).await.unwrap();

    let mut secrets = vec![first.access_token.clone(), first.refresh_token.clone().unwrap()];
    let mut texts = vec![format!("{first:?}")];
    server.expire_all().await;
    session.execute(HttpRequest::get("/api/resource")).await.unwrap();
    let rotated = store.get().unwrap();
    secrets.extend([rotated.access_token.clone(), rotated.refresh_token.clone().unwrap()]);
    texts.push(format!("{rotated:?}"));
    server.expire_all().await;
    for fault in
        [json!({"kind": "malformed"}), json!({"kind": "status", "status": 500}), json!({"kind": "invalid_grant"})]
    {
        server.fault(fault).await;
        let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();
        texts.push(format!("{error} {error:?}"));
    }
    texts.extend(recorder.events.lock().unwrap().iter().map(|e| format!("{e:?}")));
    let mut config = SessionConfig::new(server.base_url());
    config.refresh_protocol = Some(RefreshProtocol::OAuth2 {
        client_id: Some("app".into()),
        client_secret: Some("client-secret-value".into()),
        scope: None,
        basic_auth: true,
    });
    texts.push(format!("{config:?}"));
    config.refresh_protocol = Some(RefreshProtocol::Json {
        refresh_token_field: "refreshToken".into(),
        extra_fields: HashMap::from([("authorization".into(), "client-credential-value".into())]),
        access_token_pointer: "/data/token".into(),
        refresh_token_pointer: None,
        expires_in_pointer: None,
    });
    texts.push(format!("{config:?}"));
    secrets.extend(["client-secret-value".into(), "client-credential-value".into()]);

    log::logger().flush();
    let lines = capture.lines.lock().unwrap().clone();
    assert!(lines.len() > 10, "trace logging captured the session");
    assert!(!lines.iter().any(|l| l.contains("log records dropped")), "every record was checked");
    texts.extend(lines);
    for text in &texts {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a secret leaked into: {text}");
        }
    }
}
