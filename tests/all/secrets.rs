//! No token in logs (at any level), `Debug` output or error text.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use refreshkit::{
    install_logger, software_dpop_key, CallbackError, DpopKey, DpopKeyError, HttpRequest, LogLevel, LogRecord, Logger,
    RefreshProtocol, Session, SessionConfig, SessionError, SessionEvent::RevocationFailed, SoftwareDpopKey,
};
use serde_json::json;

use crate::helpers::{eventually, session_with, AuthServer, MemoryStore};

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

    let (dpop_texts, dpop_secrets) = dpop_session_under_the_same_logger().await;
    texts.extend(dpop_texts);
    secrets.extend(dpop_secrets);
    let (revoking_texts, revoking_secrets) = revocations_under_the_same_logger().await;
    texts.extend(revoking_texts);
    secrets.extend(revoking_secrets);

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

/// A DPoP-bound session across an expiry, a refused proof and a failing key: its texts
/// (errors, events, Debug) and its secrets (tokens, and the proofs' header, which every
/// proof of the key starts with).
async fn dpop_session_under_the_same_logger() -> (Vec<String>, Vec<String>) {
    let server = AuthServer::start_with(&["--dpop-nonce"]);
    let key = Arc::new(FailingKey { inner: software_dpop_key(), failing: AtomicBool::new(false) });
    let session =
        Session::with_dpop(SessionConfig::new(server.base_url()), Arc::new(MemoryStore::default()), key.clone(), None)
            .unwrap();
    let tokens = server.login_with_proof(&session).await;
    let proof = session.dpop_proof("GET".into(), format!("{}/api/resource", server.base_url()), None).await.unwrap();
    let proof_header = proof.split('.').next().unwrap().to_owned();
    let mut secrets = vec![tokens.access_token.clone(), tokens.refresh_token.clone().unwrap(), proof, proof_header];
    session.sign_in(tokens).await.unwrap();
    server.expire_all().await;
    server.post_json("/control/dpop-rotate-nonce", json!({})).await;
    session.execute(HttpRequest::get("/api/resource")).await.unwrap();
    secrets.push(session.access_token().await.unwrap());

    key.failing.store(true, Ordering::SeqCst);
    let error = session.execute(HttpRequest::get("/api/resource")).await.unwrap_err();
    assert!(matches!(error, SessionError::DpopKey { .. }), "{error:?}");
    let texts = vec![format!("{error} {error:?}"), format!("{:?}", SoftwareDpopKey::generate())];
    (texts, secrets)
}

/// Sign-outs that revoke (RFC 7009): one revoked, one refused with 500, one that never
/// answers in time. Their texts (events) and secrets (the tokens they revoked).
async fn revocations_under_the_same_logger() -> (Vec<String>, Vec<String>) {
    let server = AuthServer::start();
    let (session, recorder) = session_with(&server, Arc::new(MemoryStore::default()), |c| {
        c.revocation_path = Some("/oauth/revoke".into());
        c.request_timeout_ms = 500;
    });
    let mut secrets = Vec::new();
    let faults = [None, Some(json!({"kind": "status", "status": 500})), Some(json!({"kind": "delay", "ms": 60_000}))];
    for (done, fault) in faults.into_iter().enumerate() {
        let tokens = server.login().await;
        secrets.extend([tokens.access_token.clone(), tokens.refresh_token.clone().unwrap()]);
        session.sign_in(tokens).await.unwrap();
        if let Some(fault) = fault {
            server.revocation_fault(fault).await;
        }
        session.sign_out().await.unwrap();
        eventually("the revocation to end", || async {
            let failed =
                recorder.events.lock().unwrap().iter().filter(|e| matches!(e, RevocationFailed { .. })).count();
            server.stat("revoked_refresh_tokens").await + failed as u64 == done as u64 + 1
        })
        .await;
    }
    let texts = recorder.events.lock().unwrap().iter().map(|e| format!("{e:?}")).collect();
    (texts, secrets)
}

/// A key that fails on demand, with the kind of message a platform key gives.
struct FailingKey {
    inner: Arc<dyn DpopKey>,
    failing: AtomicBool,
}

impl DpopKey for FailingKey {
    fn public_jwk(&self) -> Result<String, DpopKeyError> {
        self.inner.public_jwk()
    }
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, DpopKeyError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(DpopKeyError::Failed { detail: "the key is in locked hardware".into() });
        }
        self.inner.sign(message)
    }
}

/// What Kotlin's `toString()` and Swift's `description` show (the `Display` form): the
/// fields by their Kotlin and Swift names, no Rust notation, no secret.
#[test]
fn printed_tokens_show_no_secret_and_no_rust_notation() {
    let tokens = refreshkit::Tokens {
        access_token: "secret-access".into(),
        refresh_token: Some("secret-refresh".into()),
        expires_at: Some(std::time::UNIX_EPOCH + Duration::from_secs(1_900_000_000)),
        id_token: None,
        scope: Some("openid".into()),
        token_type: None,
    };
    let shown = tokens.to_string();
    assert!(!shown.contains("secret"), "{shown}");
    for rust in ["Some(", "None", "SystemTime", "tv_sec", "access_token"] {
        assert!(!shown.contains(rust), "{rust} in {shown}");
    }
    assert!(shown.contains("refreshToken=<redacted>") && shown.contains("idToken=none"), "{shown}");
    assert!(shown.contains("expiresAt=Sun, 17 Mar 2030") && shown.contains("scope=openid"), "{shown}");
}
