use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

use refreshkit::Tokens;
use serde_json::{json, Value};

/// The auth server binary, started on a free loopback port and killed on drop.
pub struct AuthServer {
    child: Child,
    port: u16,
    http: reqwest::Client,
}

fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("REFRESHKIT_AUTH_SERVER") {
        return path.into();
    }
    // The test binary lives in target/<profile>/deps; the server in target/<profile>.
    let exe = std::env::current_exe().expect("test executable path");
    let path = exe.parent().and_then(|d| d.parent()).expect("target dir").join("auth-server");
    assert!(path.exists(), "{} is missing: run `cargo build -p auth-server` first", path.display());
    path
}

impl AuthServer {
    pub fn start() -> AuthServer {
        Self::start_with(&[])
    }

    pub fn start_with(args: &[&str]) -> AuthServer {
        let mut child = Command::new(binary())
            .args(["--port", "0", "--exit-on-stdin-eof"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start auth-server");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).expect("read port");
        let port = first.trim().rsplit(':').next().and_then(|p| p.parse().ok()).expect("port line");
        // The tests' own control client needs a process-wide provider; the library
        // under test never does (it passes its own TLS configuration).
        let _ = rustls::crypto::ring::default_provider().install_default();
        AuthServer { child, port, http: reqwest::Client::new() }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn login(&self) -> Tokens {
        let v: Value = self.post("/login", json!({})).await.json().await.unwrap();
        Tokens::new(v["access_token"].as_str().unwrap(), Some(v["refresh_token"].as_str().unwrap().into()), None)
    }

    /// The login endpoint's answer as received: an OAuth token response's JSON.
    pub async fn login_answer(&self) -> Vec<u8> {
        self.post("/login", json!({})).await.bytes().await.unwrap().to_vec()
    }

    /// Login tokens with the expiry the server announced in `expires_in`.
    pub async fn login_with_expiry(&self) -> Tokens {
        let v: Value = self.post("/login", json!({})).await.json().await.unwrap();
        let expires_at = SystemTime::now() + std::time::Duration::from_secs(v["expires_in"].as_u64().unwrap());
        Tokens::new(
            v["access_token"].as_str().unwrap(),
            Some(v["refresh_token"].as_str().unwrap().into()),
            Some(expires_at),
        )
    }

    /// `POST path` with a `DPoP` header: the status, the `DPoP-Nonce` answered, the body.
    pub async fn post_with_proof(&self, path: &str, proof: &str) -> (u16, Option<String>, Value) {
        let response = self.http.post(format!("{}{path}", self.base_url())).header("DPoP", proof).send().await.unwrap();
        let nonce = response.headers().get("dpop-nonce").map(|v| v.to_str().unwrap().to_owned());
        (response.status().as_u16(), nonce, response.json().await.unwrap_or(Value::Null))
    }

    /// Login tokens bound to `session`'s DPoP key: the login call carries the session's
    /// proof, made again once with the nonce the server asks for; `token_type` kept.
    pub async fn login_with_proof(&self, session: &refreshkit::Session) -> Tokens {
        let url = format!("{}/login", self.base_url());
        let mut nonce = None;
        for _ in 0..2 {
            let proof = session.dpop_proof("POST".into(), url.clone(), nonce.clone()).await.unwrap();
            let (status, answered_nonce, body) = self.post_with_proof("/login", &proof).await;
            if status == 200 {
                let mut tokens = Tokens::new(
                    body["access_token"].as_str().unwrap(),
                    body["refresh_token"].as_str().map(Into::into),
                    None,
                );
                tokens.token_type = body["token_type"].as_str().map(Into::into);
                return tokens;
            }
            assert_eq!(body["error"], "use_dpop_nonce", "the login proof was refused: {body}");
            nonce = answered_nonce;
        }
        panic!("the login needed more than one nonce")
    }

    pub async fn stats(&self) -> Value {
        self.http.get(format!("{}/control/stats", self.base_url())).send().await.unwrap().json().await.unwrap()
    }

    pub async fn stat(&self, name: &str) -> u64 {
        self.stats().await[name].as_u64().unwrap()
    }

    pub async fn fault(&self, fault: Value) {
        let r = self.post("/control/fault", fault).await;
        assert!(r.status().is_success(), "fault refused: {}", r.text().await.unwrap());
    }

    /// Queues a fault for the next call of the revocation endpoint (`/oauth/revoke`).
    pub async fn revocation_fault(&self, fault: Value) {
        let r = self.post("/control/revocation-fault", fault).await;
        assert!(r.status().is_success(), "fault refused: {}", r.text().await.unwrap());
    }

    /// Whether the protected resource takes `access_token` now (as a bearer token).
    pub async fn accepts(&self, access_token: &str) -> bool {
        let url = format!("{}/api/resource", self.base_url());
        self.http.get(url).bearer_auth(access_token).send().await.unwrap().status().is_success()
    }

    pub async fn expire_all(&self) {
        self.post("/control/expire-all", json!({})).await;
    }

    pub async fn set_access_ttl_ms(&self, ms: u64) {
        self.post("/control/access-ttl", json!({ "ms": ms })).await;
    }

    pub async fn post_json(&self, path: &str, body: Value) {
        self.post(path, body).await;
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base_url())).json(&body).send().await.unwrap()
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
