//! A session's DPoP state: the app's key and the newest nonce each server gave, and the
//! rules for when an answer asks for a nonce instead of saying "expired".

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, DATE, WWW_AUTHENTICATE};
use serde_json::Value;
use url::Url;

use crate::app_calls::{Lane, LaneError};
use crate::challenge::challenges;
use crate::dpop::{proof, DpopKey, DpopKeyError, ProofFor};
use crate::error::SessionError;
use crate::http::HttpResponse;

/// The token type (RFC 9449 section 5) whose requests carry proofs.
pub(crate) const DPOP_TOKEN_TYPE: &str = "DPoP";

pub(crate) struct Dpop {
    key: Arc<dyn DpopKey>,
    /// The newest `DPoP-Nonce` per origin (scheme, host, port).
    nonces: Mutex<HashMap<String, String>>,
    /// Server time minus local time, in seconds, from the `Date` of the servers' answers:
    /// `iat` is checked on the server's clock, so a phone whose clock is off still proves.
    clock_offset_secs: AtomicI64,
    /// The key's calls under way: a hung key holds at most `KEY_CALLS` threads.
    key_calls: Lane,
}

/// How many signatures may be under way at once: a hardware key signs one at a time
/// anyway, and a hung one must leave the blocking threads to the store and the lock.
const KEY_CALLS: usize = 4;

/// A clock difference below this is left alone (servers accept a minute or more).
const CLOCK_TOLERANCE_SECS: i64 = 10;

impl Dpop {
    pub fn new(key: Arc<dyn DpopKey>) -> Self {
        Dpop {
            key,
            nonces: Mutex::new(HashMap::new()),
            clock_offset_secs: AtomicI64::new(0),
            key_calls: Lane::new(KEY_CALLS),
        }
    }

    /// A proof for one request, with the newest nonce of its server. The app's key signs
    /// on a blocking thread: hardware keys can take a while, but not longer than
    /// `within` (a key that never answers must not hold its caller, or a refresh, for
    /// ever; its thread is left to finish on its own, and keeps its place in the lane).
    pub async fn proof(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&str>,
        within: Duration,
    ) -> Result<HeaderValue, DpopKeyError> {
        let key = Arc::clone(&self.key);
        let (method, url, token) = (method.to_owned(), url.clone(), access_token.map(str::to_owned));
        let nonce = self.nonces().get(&origin(&url)).cloned();
        let now = shifted(crate::clock::now(), self.clock_offset_secs.load(Ordering::Relaxed));
        let signing = move || {
            let what =
                ProofFor { method: &method, url: &url, access_token: token.as_deref(), nonce: nonce.as_deref(), now };
            proof(key.as_ref(), &what)
        };
        let signed = self.key_calls.call(within, signing).await.map_err(|e| match e {
            LaneError::TimedOut => DpopKeyError::Failed { detail: format!("the DPoP key did not sign within {within:?}") },
            LaneError::Panicked => DpopKeyError::Failed { detail: "the DPoP key's code panicked".into() },
        })??;
        HeaderValue::try_from(signed)
            .map_err(|_| DpopKeyError::Failed { detail: "the proof is not a header value".into() })
    }

    /// Learns from an answer of `url`'s server: its newest nonce, and its clock. True when
    /// the answer says what a proof needs, so a refused proof is worth one retry: it names
    /// a nonce (new or not: requests refused together for one rotation each hear the nonce
    /// in their own answer, and only the first finds it new), or the clock moved.
    pub fn learn(&self, url: &Url, headers: &HeaderMap) -> bool {
        let nonce = headers.get("dpop-nonce").and_then(|v| v.to_str().ok());
        let named = nonce.is_some_and(|nonce| {
            self.use_nonce(url, nonce);
            usable_nonce(nonce)
        });
        named | self.learn_clock(headers)
    }

    /// True when the server's clock is now known to differ from what proofs assumed.
    fn learn_clock(&self, headers: &HeaderMap) -> bool {
        let Some(server) =
            headers.get(DATE).and_then(|v| v.to_str().ok()).and_then(|d| httpdate::parse_http_date(d).ok())
        else {
            return false;
        };
        let offset = seconds_between(crate::clock::now(), server);
        let offset = if offset.abs() < CLOCK_TOLERANCE_SECS { 0 } else { offset };
        let before = self.clock_offset_secs.swap(offset, Ordering::Relaxed);
        (offset - before).abs() >= CLOCK_TOLERANCE_SECS
    }

    /// Uses `nonce` for `url`'s server from now on; true when it is new.
    pub fn use_nonce(&self, url: &Url, nonce: &str) -> bool {
        if !usable_nonce(nonce) {
            return false;
        }
        self.nonces().insert(origin(url), nonce.to_owned()).as_deref() != Some(nonce)
    }

    fn nonces(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.nonces.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// RFC 9449 section 8.1: a nonce is visible ASCII; anything else is not used.
fn usable_nonce(nonce: &str) -> bool {
    !nonce.is_empty() && nonce.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// `later - earlier` in whole seconds, negative when `later` is before `earlier`.
fn seconds_between(earlier: SystemTime, later: SystemTime) -> i64 {
    match later.duration_since(earlier) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

fn shifted(time: SystemTime, offset_secs: i64) -> SystemTime {
    let by = Duration::from_secs(offset_secs.unsigned_abs());
    if offset_secs >= 0 {
        time + by
    } else {
        time - by
    }
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A key failure as the caller sees it (a gone key ends the session instead).
pub(crate) fn key_failed(e: DpopKeyError) -> SessionError {
    SessionError::DpopKey { detail: e.to_string() }
}

/// DPoP-bound tokens on a session built without a key.
pub(crate) fn no_key_for_bound_tokens() -> SessionError {
    SessionError::InvalidConfig {
        detail: "the tokens are DPoP-bound: build the session with Session::with_dpop".into(),
    }
}

/// Whether tokens of this type need proofs.
pub(crate) fn is_dpop_token_type(token_type: Option<&str>) -> bool {
    token_type.is_some_and(|t| t.eq_ignore_ascii_case(DPOP_TOKEN_TYPE))
}

/// DPoP error codes: the proof was refused, not the token.
pub(crate) const DPOP_ERRORS: [&str; 2] = ["use_dpop_nonce", "invalid_dpop_proof"];

/// The token endpoint refused the proof: 400 `{"error": "use_dpop_nonce"}` (or
/// `invalid_dpop_proof`).
pub(crate) fn token_endpoint_refused_proof(status: u16, body: &[u8]) -> bool {
    status == 400
        && serde_json::from_slice::<Value>(body)
            .ok()
            .is_some_and(|v| v.get("error").and_then(Value::as_str).is_some_and(|e| DPOP_ERRORS.contains(&e)))
}

/// Whether a resource server's 401 refused the proof: a `DPoP` challenge with
/// `error="use_dpop_nonce"` (or `invalid_dpop_proof`), wherever it is among the
/// answer's `WWW-Authenticate` fields and challenges.
fn refused_proof<'a>(status: u16, www_authenticate: impl Iterator<Item = &'a str>) -> bool {
    status == 401
        && challenges(www_authenticate).iter().any(|c| {
            c.scheme.eq_ignore_ascii_case("dpop") && c.param("error").is_some_and(|e| DPOP_ERRORS.contains(&e))
        })
}

/// A resource server refused the proof: not an expired token, so no refresh.
pub(crate) fn resource_refused_proof(status: u16, headers: &HeaderMap) -> bool {
    refused_proof(status, headers.get_all(WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok()))
}

/// `resource_refused_proof` for a response as the app sees it.
pub(crate) fn refused_the_proof(response: &HttpResponse) -> bool {
    let challenges =
        response.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("www-authenticate")).map(|h| h.value.as_str());
    refused_proof(response.status, challenges)
}
