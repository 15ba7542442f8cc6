//! panva's oidc-provider (tests/oidc/provider.mjs) as a test's other process: a real,
//! OpenID-certified authorization server with DPoP and nonces required, on loopback.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use refreshkit::{RefreshProtocol, Session, SessionConfig, Tokens};
use reqwest::redirect::Policy;
use serde_json::Value;

/// The provider's only client: public, PKCE, DPoP-bound tokens.
pub const CLIENT_ID: &str = "refreshkit";
const REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// The provider process, killed on drop (it also exits when its stdin closes).
pub struct OidcProvider {
    child: Child,
    port: u16,
    /// A client that follows no redirect, for the front channel and the raw checks.
    pub http: reqwest::Client,
}

fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// `npm ci` once per test run, when `make test` has not installed the packages yet.
fn install_packages() {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if *installed || script_dir().join("node_modules/oidc-provider").exists() {
        *installed = true;
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .current_dir(script_dir())
        .status()
        .expect("Node.js is installed but npm is not: install npm to run the oidc-provider tests");
    assert!(status.success(), "`npm ci` in tests/oidc failed");
    *installed = true;
}

impl OidcProvider {
    /// Starts the provider; `None`, with a message, when Node.js is not installed.
    pub fn start() -> Option<OidcProvider> {
        if Command::new("node").arg("--version").stdout(Stdio::null()).status().is_err() {
            // Written past the test harness's capture, once, so a skip is seen.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                let _ =
                    writeln!(std::io::stderr(), "SKIPPED: the tests against oidc-provider: Node.js is not installed");
            });
            return None;
        }
        install_packages();
        let mut child = Command::new("node")
            .arg(script_dir().join("provider.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start node");
        // Its stderr (oidc-provider's warnings, a crash) is shown only if it never starts.
        let stderr = Arc::new(Mutex::new(String::new()));
        let (mut from, into) = (child.stderr.take().unwrap(), Arc::clone(&stderr));
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = from.read(&mut buf) {
                into.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).expect("read the provider's first line");
        let port = first.trim().strip_prefix("listening on 127.0.0.1:").and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let _ = reader.join();
            panic!("oidc-provider did not start: {:?}\n{}", first, stderr.lock().unwrap());
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().redirect(Policy::none()).no_proxy().build().unwrap();
        Some(OidcProvider { child, port, http })
    }

    /// The issuer, which is also the base URL of its endpoints.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer())
    }

    /// A session config for the provider: refresh at `/token` as the public client.
    pub fn config(&self) -> SessionConfig {
        let mut config = SessionConfig::new(self.issuer());
        config.refresh_path = "/token".into();
        config.refresh_protocol = Some(RefreshProtocol::OAuth2 {
            client_id: Some(CLIENT_ID.into()),
            client_secret: None,
            scope: None,
            basic_auth: false,
        });
        config
    }

    /// The provider's counts of its /token and /me answers, like
    /// `token refresh_token 200` or `userinfo 401 use_dpop_nonce`.
    pub async fn stats(&self) -> BTreeMap<String, u64> {
        let stats: Value = self.http.get(self.url("/control/stats")).send().await.unwrap().json().await.unwrap();
        stats.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect()
    }

    /// An authorization code from the real authorization endpoint, through the front
    /// channel a browser would take (the script's interaction logs `alice` in and
    /// consents), carrying the cookies the provider sets, as a browser does. The code is
    /// bound to `code_challenge` (PKCE, S256).
    pub async fn authorization_code(&self, code_challenge: &str) -> String {
        let mut url = reqwest::Url::parse_with_params(
            &self.url("/auth"),
            [
                ("client_id", CLIENT_ID),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT_URI),
                ("scope", "openid offline_access"),
                ("prompt", "consent"),
                ("code_challenge", code_challenge),
                ("code_challenge_method", "S256"),
                ("state", "refreshkit-state"),
            ],
        )
        .unwrap();
        let mut cookies = BTreeMap::new();
        for _ in 0..10 {
            let cookie_header = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            let response = self.http.get(url.clone()).header("cookie", cookie_header).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 303, "the front channel stopped at {}", url.path());
            for set in response.headers().get_all("set-cookie") {
                let pair = set.to_str().unwrap().split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                cookies.insert(name.to_owned(), value.to_owned());
            }
            let location = response.headers()["location"].to_str().unwrap();
            url = url.join(location).unwrap();
            if url.as_str().starts_with(REDIRECT_URI) {
                let query: BTreeMap<_, _> = url.query_pairs().collect();
                assert_eq!(query.get("state").map(|s| s.as_ref()), Some("refreshkit-state"));
                assert_eq!(query.get("iss").map(|s| s.as_ref()), Some(self.issuer().as_str()));
                return query.get("code").expect("the redirect carries a code").to_string();
            }
        }
        panic!("the front channel never reached the redirect URI")
    }

    /// `POST /token` for the authorization code, with `dpop` as the `DPoP` header when
    /// given: the status, the `DPoP-Nonce` answered and the body.
    pub async fn exchange_code(
        &self,
        code: &str,
        code_verifier: &str,
        dpop: Option<&str>,
    ) -> (u16, Option<String>, Value) {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("code_verifier", code_verifier),
        ];
        let mut request = self.http.post(self.url("/token")).form(&form);
        if let Some(proof) = dpop {
            request = request.header("DPoP", proof);
        }
        let response = request.send().await.unwrap();
        let nonce = response.headers().get("dpop-nonce").map(|v| v.to_str().unwrap().to_owned());
        (response.status().as_u16(), nonce, response.json().await.unwrap_or(Value::Null))
    }

    /// Signs `alice` in as an app would: the front channel, then the code exchange with
    /// the session's proof, sent again with the nonce the provider asks for. The tokens
    /// as the provider gave them.
    pub async fn log_in(&self, session: &Session) -> Tokens {
        let (verifier, challenge) = pkce();
        let code = self.authorization_code(&challenge).await;
        let token_url = self.url("/token");
        let proof = session.dpop_proof("POST".into(), token_url.clone(), None).await.unwrap();
        let (status, nonce, body) = self.exchange_code(&code, &verifier, Some(&proof)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("use_dpop_nonce")), "the provider requires nonces");
        let proof = session.dpop_proof("POST".into(), token_url, nonce).await.unwrap();
        let (status, _, body) = self.exchange_code(&code, &verifier, Some(&proof)).await;
        assert_eq!(status, 200, "the code exchange with the nonce failed: {}", body["error_description"]);
        tokens_of(&body)
    }

    /// Revokes `token` at the provider's revocation endpoint (RFC 7009), as the public
    /// client. oidc-provider then revokes every token of the grant.
    pub async fn revoke(&self, token: &str) {
        let form = [("token", token), ("client_id", CLIENT_ID)];
        let response = self.http.post(self.url("/token/revocation")).form(&form).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "revocation refused");
    }

    /// Access tokens issued from now on live `seconds`.
    pub async fn set_access_ttl(&self, seconds: u64) {
        let response = self.http.post(self.url("/control/access-ttl")).body(seconds.to_string()).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 204);
    }

    /// Ends `access_token` in the provider's store, as its lifetime would: refused with
    /// `invalid_token` from now on, while the refresh token stays valid.
    pub async fn expire(&self, access_token: &str) {
        let response = self.http.post(self.url("/control/expire")).body(access_token.to_owned()).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 204, "the provider did not know the token");
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A PKCE verifier and its S256 challenge (RFC 7636).
pub fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).unwrap();
    let verifier = B64URL.encode(bytes);
    let challenge = B64URL.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()));
    (verifier, challenge)
}

/// The token endpoint's answer as the app signs in with it.
pub fn tokens_of(body: &Value) -> Tokens {
    let text = |name: &str| body[name].as_str().map(str::to_owned);
    let expires_at = body["expires_in"].as_u64().map(|s| SystemTime::now() + Duration::from_secs(s));
    let mut tokens = Tokens::new(text("access_token").expect("an access token"), text("refresh_token"), expires_at);
    tokens.id_token = text("id_token");
    tokens.scope = text("scope");
    tokens.token_type = text("token_type");
    tokens
}
