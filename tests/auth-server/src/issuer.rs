//! Issues JWT access tokens and rotating refresh tokens, and detects refresh-token
//! reuse: presenting a rotated refresh token revokes its whole family.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::faults::QueuedFault;

#[derive(Default, Serialize, Clone)]
pub struct Stats {
    /// Refresh calls received, whatever their outcome.
    pub refresh_requests: u64,
    /// Refresh calls answered with new tokens.
    pub refreshes: u64,
    /// Refresh calls refused (unknown, reused or revoked refresh token).
    pub refresh_rejected: u64,
    /// Reuse of a rotated refresh token (the family was revoked).
    pub reuse_detected: u64,
    /// Protected requests answered normally.
    pub served: u64,
    /// Protected requests refused because the access token was expired or unknown.
    pub rejected: u64,
    /// Logins.
    pub logins: u64,
    /// Requests waiting at `/held` for `POST /control/release-held`.
    pub held_waiting: u64,
    /// The bearer tokens `/held` received, in order.
    pub held_seen: Vec<String>,
    /// Requests refused for their DPoP proof (missing, invalid, replayed, another key).
    pub dpop_refused: u64,
    /// Requests answered `use_dpop_nonce`.
    pub nonce_challenges: u64,
    /// Of those, requests to `/login` and the token endpoint.
    pub token_nonce_challenges: u64,
    /// Of those, requests to resources.
    pub resource_nonce_challenges: u64,
    /// Requests to `/api/challenge` answered with the challenge they asked for.
    pub step_up_challenges: u64,
    /// Calls to the revocation endpoint, whatever their outcome.
    pub revocation_requests: u64,
    /// Refresh tokens revoked there (with their family).
    pub revoked_refresh_tokens: u64,
    /// Access tokens revoked there (with their family).
    pub revoked_access_tokens: u64,
    /// Revocation calls that carried a `DPoP` header.
    pub revocations_with_proof: u64,
}

struct Access {
    expires: SystemTime,
    family: u64,
}

/// How a request presented its access token, and the DPoP key it proved it holds.
pub struct Presented<'a> {
    pub token: Option<&'a str>,
    pub dpop_scheme: bool,
    pub jkt: Option<&'a str>,
}

struct Refresh {
    family: u64,
    used: bool,
}

pub enum RefreshOutcome {
    Issued(Issued),
    Rejected,
}

#[derive(Serialize)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    /// `DPoP` for tokens bound to a key, `Bearer` otherwise.
    pub token_type: &'static str,
    /// The granted scope, as most servers return it (RFC 6749 section 5.1).
    pub scope: &'static str,
    /// An OpenID Connect ID token, as an OpenID provider adds to its answers.
    pub id_token: String,
}

pub struct Issuer {
    pub access_ttl: Duration,
    /// Access tokens without a readable expiry (not JWTs): clients learn of it from the API.
    pub opaque_tokens: bool,
    /// When set, the OAuth endpoint takes only HTTP Basic with this `client_id:client_secret`
    /// (as sent: each part form-urlencoded), like a server that allows `client_secret_basic` alone.
    pub basic_client: Option<String>,
    pub credential: String,
    pub stats: Stats,
    pub faults: Vec<QueuedFault>,
    /// Faults of the revocation endpoint, one per call, apart from the refresh's.
    pub revocation_faults: Vec<QueuedFault>,
    /// Opens gated faults; a release before the wait is kept for it.
    pub gate: std::sync::Arc<tokio::sync::Notify>,
    /// Opens the requests waiting at `/held`.
    pub held_gate: std::sync::Arc<tokio::sync::Notify>,
    /// DPoP required (`--dpop`, `--dpop-nonce`).
    pub dpop: Option<crate::dpop::DpopRules>,
    /// The DPoP key thumbprint each token family is bound to.
    bound: HashMap<u64, String>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    revoked: HashSet<u64>,
    next_id: u64,
    salt: RandomState,
}

impl Issuer {
    pub fn new(access_ttl_ms: u64, credential: String) -> Issuer {
        Issuer {
            access_ttl: Duration::from_millis(access_ttl_ms),
            opaque_tokens: false,
            basic_client: None,
            credential,
            stats: Stats::default(),
            faults: Vec::new(),
            revocation_faults: Vec::new(),
            gate: Default::default(),
            held_gate: Default::default(),
            dpop: None,
            bound: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            revoked: HashSet::new(),
            next_id: 0,
            salt: RandomState::new(),
        }
    }

    /// New tokens for `user`, bound to the DPoP key `jkt` when given.
    pub fn login(&mut self, user: &str, jkt: Option<String>) -> Issued {
        self.stats.logins += 1;
        self.next_id += 1;
        let family = self.next_id;
        if let Some(jkt) = jkt {
            self.bound.insert(family, jkt);
        }
        self.issue(user, family)
    }

    /// `jkt`: the key of the request's DPoP proof; a bound family needs the same key.
    pub fn refresh(&mut self, refresh_token: &str, jkt: Option<&str>) -> RefreshOutcome {
        let Some(entry) = self.refresh.get_mut(refresh_token) else {
            self.stats.refresh_rejected += 1;
            return RefreshOutcome::Rejected;
        };
        let family = entry.family;
        if self.bound.get(&family).is_some_and(|bound| Some(bound.as_str()) != jkt) {
            self.stats.dpop_refused += 1;
            self.stats.refresh_rejected += 1;
            return RefreshOutcome::Rejected;
        }
        let entry = self.refresh.get_mut(refresh_token).expect("looked up above");
        if entry.used {
            // A rotated token came back: someone holds a copy. Revoke the family.
            self.stats.reuse_detected += 1;
            self.stats.refresh_rejected += 1;
            self.revoked.insert(family);
            return RefreshOutcome::Rejected;
        }
        if self.revoked.contains(&family) {
            self.stats.refresh_rejected += 1;
            return RefreshOutcome::Rejected;
        }
        entry.used = true;
        self.stats.refreshes += 1;
        RefreshOutcome::Issued(self.issue("user", family))
    }

    /// Whether `access_token` is valid now (a Bearer token); counts the answer.
    pub fn authorize(&mut self, access_token: Option<&str>) -> bool {
        self.authorize_presented(&Presented { token: access_token, dpop_scheme: false, jkt: None })
    }

    /// Whether the token is valid now and presented as issued: a DPoP-bound token with
    /// the `DPoP` scheme and a proof by its key, any other with `Bearer`.
    pub fn authorize_presented(&mut self, presented: &Presented<'_>) -> bool {
        let now = SystemTime::now();
        let valid = presented.token.and_then(|t| self.access.get(t)).is_some_and(|a| {
            let key_matches = match self.bound.get(&a.family) {
                Some(bound) => presented.dpop_scheme && presented.jkt == Some(bound.as_str()),
                None => !presented.dpop_scheme,
            };
            key_matches && a.expires > now && !self.revoked.contains(&a.family)
        });
        if valid {
            self.stats.served += 1;
        } else {
            self.stats.rejected += 1;
        }
        valid
    }

    /// RFC 7009: revokes `token` and the rest of its family, if it is one of ours.
    /// `hint` says where to look first; an unknown token is no error (section 2.2).
    pub fn revoke(&mut self, token: &str, hint: Option<&str>) {
        let refresh = self.refresh.get(token).map(|r| r.family);
        let access = self.access.get(token).map(|a| a.family);
        let found = match hint {
            Some("access_token") => access.map(|f| (f, false)).or(refresh.map(|f| (f, true))),
            _ => refresh.map(|f| (f, true)).or(access.map(|f| (f, false))),
        };
        let Some((family, is_refresh)) = found else { return };
        if is_refresh {
            self.stats.revoked_refresh_tokens += 1;
        } else {
            self.stats.revoked_access_tokens += 1;
        }
        self.revoked.insert(family);
    }

    /// Makes every access token issued so far expired, without the client knowing.
    pub fn expire_all(&mut self) {
        let past = SystemTime::now() - Duration::from_secs(1);
        for access in self.access.values_mut() {
            access.expires = past;
        }
    }

    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
        self.faults.clear();
        self.revocation_faults.clear();
    }

    fn issue(&mut self, user: &str, family: u64) -> Issued {
        self.next_id += 1;
        let now = SystemTime::now();
        let expires = now + self.access_ttl;
        let exp = expires.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let iat = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = serde_json::json!({ "sub": user, "exp": exp, "iat": iat, "jti": self.next_id });
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signature = URL_SAFE_NO_PAD.encode(self.random().to_le_bytes());
        let access_token = if self.opaque_tokens {
            format!("at{}.{signature}", self.next_id)
        } else {
            format!("{header}.{payload}.{signature}")
        };
        let (serial, random) = (self.next_id, self.random());
        let refresh_token = format!("rt{serial}.{random:016x}");
        self.access.insert(access_token.clone(), Access { expires, family });
        self.refresh.insert(refresh_token.clone(), Refresh { family, used: false });
        let id_token = format!(
            "{header}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(format!("{{\"sub\":\"{user}\",\"jti\":{serial}}}"))
        );
        Issued {
            access_token,
            refresh_token,
            expires_in: self.access_ttl.as_secs(),
            token_type: if self.bound.contains_key(&family) { "DPoP" } else { "Bearer" },
            scope: "openid api",
            id_token,
        }
    }

    fn random(&mut self) -> u64 {
        self.next_id += 1;
        self.salt.hash_one(self.next_id)
    }
}
