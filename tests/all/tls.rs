//! TLS: a server with a self-signed certificate is refused by default.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use refreshkit::{HttpRequest, Session, SessionConfig, SessionError, Tokens};

use crate::helpers::MemoryStore;

/// `openssl s_server` with a fresh self-signed certificate for localhost.
struct SelfSignedServer {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl SelfSignedServer {
    fn start() -> SelfSignedServer {
        let dir = std::env::temp_dir().join(format!("refreshkit-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", "key.pem", "-out", "cert.pem"])
            .current_dir(&dir)
            .stderr(Stdio::null())
            .status()
            .expect("openssl is needed for the TLS test");
        assert!(status.success());
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-cert", "cert.pem", "-key", "key.pem"])
            .args(["-accept", &format!("127.0.0.1:{port}")])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        SelfSignedServer { child, port, dir }
    }
}

impl Drop for SelfSignedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_certificate_is_refused_by_default() {
    let server = SelfSignedServer::start();
    let url = format!("https://localhost:{}/", server.port);
    // Control: the server answers a client that skips verification, once it is up.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let lax = reqwest::Client::builder().tls_danger_accept_invalid_certs(true).build().unwrap();
    let mut up = false;
    for _ in 0..100 {
        if lax.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "openssl s_server did not come up");

    let session = Session::new(SessionConfig::new(&url), Arc::new(MemoryStore::default()), None).unwrap();
    session.sign_in(Tokens::new("secret-access", Some("secret-refresh".into()), None)).await.unwrap();
    let error = session.execute(HttpRequest::get("/")).await.unwrap_err();

    assert_eq!(error, SessionError::Network { detail: "the server's TLS certificate is not trusted".into() });
}
