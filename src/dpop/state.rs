//! A session's DPoP state: the app's key, the newest nonce each server gave and the
//! servers' clock, and the rules for when an answer asks for a nonce instead of saying
//! "expired".

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, AGE, DATE, WWW_AUTHENTICATE};
use serde_json::Value;
use url::Url;

use crate::dpop::key::{proof, DpopKey, DpopKeyError, ProofFor};
use crate::foundation::app_calls::{Lane, Unanswered};
use crate::net::challenge::{challenges, www_authenticate_fields};
use crate::types::error::SessionError;
use crate::types::http::HttpResponse;

/// The token type (RFC 9449 section 5) whose requests carry proofs.
pub(crate) const DPOP_TOKEN_TYPE: &str = "DPoP";

pub(crate) struct Dpop {
    key: Arc<dyn DpopKey>,
    /// The newest `DPoP-Nonce` per origin (scheme, host, port), for each kind of server.
    nonces: Mutex<HashMap<String, OriginNonces>>,
    /// Server time minus local time, in seconds, from the `Date` (and `Age`) of the
    /// servers' answers: `iat` is checked on the server's clock, so a phone whose clock
    /// is off still proves.
    clock_offset_secs: AtomicI64,
    /// The key's calls under way: a hung key holds at most `KEY_CALLS` threads.
    key_calls: Lane,
}

/// How many signatures may be under way at once: a hardware key signs one at a time
/// anyway, and a hung one must leave the blocking threads to the store and the lock.
const KEY_CALLS: usize = 4;

/// Which server a nonce is for. RFC 9449 keeps the authorization server's nonces (section
/// 8: its token endpoint) apart from a resource server's (section 9), and the two may
/// share an origin (`https://api.example.com/oauth/token` and `/v1/...`), each with its
/// own nonce: keyed by origin alone, each would replace the other's, and every refresh
/// and the request after it would first be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceFor {
    /// The token endpoint and the app's own token requests (login, code exchange).
    AuthorizationServer,
    /// Requests that carry an access token.
    ResourceServer,
}

impl NonceFor {
    /// A proof over an access token is for a resource server (RFC 9449 section 4.2:
    /// `ath`); one without is for the authorization server.
    fn of_proof(access_token: Option<&str>) -> NonceFor {
        if access_token.is_some() {
            NonceFor::ResourceServer
        } else {
            NonceFor::AuthorizationServer
        }
    }
}

/// One origin's nonces. Its two servers may share one nonce (oidc-provider's token
/// endpoint and userinfo) or keep their own: shared until a server asks again for a
/// nonce it gave before, after the other gave another (a shared nonce only moves on).
#[derive(Debug, Default)]
struct OriginNonces {
    /// The newest nonce either server gave.
    newest: Option<String>,
    authorization: Option<String>,
    resource: Option<String>,
    separate: bool,
}

impl OriginNonces {
    fn own(&mut self, server: NonceFor) -> &mut Option<String> {
        match server {
            NonceFor::AuthorizationServer => &mut self.authorization,
            NonceFor::ResourceServer => &mut self.resource,
        }
    }

    /// The nonce a proof for `server` sends: the origin's newest, or once its servers are
    /// known to keep their own, the server's own (else the other's: one that does not
    /// take it asks once, as it would with none).
    fn for_proof(&mut self, server: NonceFor) -> Option<String> {
        let newest = self.newest.clone();
        if self.separate {
            self.own(server).clone().or(newest)
        } else {
            newest
        }
    }

    fn learn(&mut self, server: NonceFor, nonce: &str) {
        let newest = self.newest.replace(nonce.to_owned());
        let own = self.own(server).replace(nonce.to_owned());
        if own.as_deref() == Some(nonce) && newest.as_deref() != Some(nonce) {
            self.separate = true;
        }
    }
}

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
        let nonce = self.nonces().entry(origin(&url)).or_default().for_proof(NonceFor::of_proof(access_token));
        let now = shifted(crate::foundation::clock::now(), self.clock_offset_secs.load(Ordering::Relaxed));
        let signing = move || {
            let what =
                ProofFor { method: &method, url: &url, access_token: token.as_deref(), nonce: nonce.as_deref(), now };
            proof(key.as_ref(), &what)
        };
        let signed = self.key_calls.call(within, signing).await.map_err(|e| match e {
            Unanswered::TimedOut => {
                DpopKeyError::Failed { detail: format!("the DPoP key did not sign within {within:?}") }
            }
            Unanswered::Panicked => DpopKeyError::Failed { detail: "the DPoP key's code panicked".into() },
        })??;
        HeaderValue::try_from(signed)
            .map_err(|_| DpopKeyError::Failed { detail: "the proof is not a header value".into() })
    }

    /// Learns from an answer of `url`'s server (a `server` of that kind): its newest nonce,
    /// and its clock. True when
    /// the answer says what a proof needs, so a refused proof is worth one retry: it names
    /// a nonce (new or not: requests refused together for one rotation each hear the nonce
    /// in their own answer, and only the first finds it new), or the clock moved.
    /// `sent` is when the request left, when known: the server answered between then and
    /// now, so a slow download does not pass for a server clock that is behind.
    pub fn learn(&self, url: &Url, server: NonceFor, headers: &HeaderMap, sent: Option<SystemTime>) -> bool {
        let nonce = headers.get("dpop-nonce").and_then(|v| v.to_str().ok());
        let named = nonce.is_some_and(|nonce| {
            self.use_nonce(url, server, nonce);
            usable_nonce(nonce)
        });
        named | self.learn_clock(headers, sent)
    }

    /// True when the server's clock is now known to differ from what proofs assumed.
    fn learn_clock(&self, headers: &HeaderMap, sent: Option<SystemTime>) -> bool {
        let Some(server) = server_time(headers) else { return false };
        let now = crate::foundation::clock::now();
        let offset = clock_offset(server, sent.unwrap_or(now), now);
        let offset = if offset.abs() < CLOCK_TOLERANCE_SECS { 0 } else { offset };
        let before = self.clock_offset_secs.swap(offset, Ordering::Relaxed);
        (offset - before).abs() >= CLOCK_TOLERANCE_SECS
    }

    /// Uses `nonce` for `url`'s `server` from now on.
    pub fn use_nonce(&self, url: &Url, server: NonceFor, nonce: &str) {
        if usable_nonce(nonce) {
            self.nonces().entry(origin(url)).or_default().learn(server, nonce);
        }
    }

    fn nonces(&self) -> std::sync::MutexGuard<'_, HashMap<String, OriginNonces>> {
        self.nonces.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// RFC 9449 section 8.1: a nonce is visible ASCII; anything else is not used.
fn usable_nonce(nonce: &str) -> bool {
    !nonce.is_empty() && nonce.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// The server's time when it answered: its `Date`, plus the `Age` a cache adds to a copy
/// it held (RFC 9111 sections 4.2.3 and 5.1): a CDN's copy keeps the `Date` of when the
/// server made it, and taken alone would put proofs' `iat` that far in the past. An `Age`
/// that is not a number says the copy is old without saying how old: no clock then.
fn server_time(headers: &HeaderMap) -> Option<SystemTime> {
    let date = httpdate::parse_http_date(headers.get(DATE)?.to_str().ok()?).ok()?;
    let age = match headers.get(AGE) {
        None => 0,
        // RFC 9111 section 1.2.2: larger than 2^31 is taken as 2^31.
        Some(age) => age.to_str().ok()?.trim().parse::<u64>().ok()?.min(1 << 31),
    };
    date.checked_add(Duration::from_secs(age))
}

/// How far the server's clock is from ours, in seconds, given that it answered at
/// `server` (its time) between `sent` and `received` (ours): none while it is within that
/// span, or its distance from the span's nearer end.
fn clock_offset(server: SystemTime, sent: SystemTime, received: SystemTime) -> i64 {
    if server < sent {
        seconds_between(sent, server)
    } else if server > received {
        seconds_between(received, server)
    } else {
        0
    }
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
    refused_proof(response.status, www_authenticate_fields(&response.headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AS: NonceFor = NonceFor::AuthorizationServer;
    const RS: NonceFor = NonceFor::ResourceServer;

    /// Failed when the offset was `Date` minus the time the body had been read: a 20 s
    /// download passed for a server clock 20 s behind, and the next proofs were refused.
    #[test]
    fn a_slow_answer_is_no_sign_of_a_server_clock_behind() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let secs = Duration::from_secs;
        assert_eq!(clock_offset(t, t, t + secs(20)), 0, "answered as sent, read for 20 s");
        assert_eq!(clock_offset(t + secs(19), t, t + secs(20)), 0);
        assert_eq!(clock_offset(t - secs(60), t, t + secs(5)), -60, "a server clock behind");
        assert_eq!(clock_offset(t + secs(65), t, t + secs(5)), 60, "a server clock ahead");
    }

    fn sent(nonces: &mut OriginNonces) -> (Option<String>, Option<String>) {
        (nonces.for_proof(AS), nonces.for_proof(RS))
    }

    fn pair(authorization: &str, resource: &str) -> (Option<String>, Option<String>) {
        (Some(authorization.into()), Some(resource.into()))
    }

    #[test]
    fn an_origins_two_servers_with_their_own_nonces_each_get_theirs_once_seen() {
        let mut nonces = OriginNonces::default();
        nonces.learn(AS, "a1");
        assert_eq!(sent(&mut nonces), pair("a1", "a1"), "the only nonce the origin gave is tried");
        nonces.learn(RS, "r1");
        assert_eq!(sent(&mut nonces), pair("r1", "r1"), "it may be shared");
        // The token endpoint asks again for its own: the two are separate from now on.
        nonces.learn(AS, "a1");
        assert_eq!(sent(&mut nonces), pair("a1", "r1"));
        nonces.learn(RS, "r2");
        nonces.learn(RS, "r2");
        assert_eq!(sent(&mut nonces), pair("a1", "r2"));
    }

    #[test]
    fn an_origin_whose_servers_share_one_nonce_rotates_it_for_both() {
        let mut nonces = OriginNonces::default();
        // Every answer names the current nonce, from either server.
        for (server, nonce) in [(AS, "n1"), (RS, "n1"), (AS, "n1"), (RS, "n2"), (RS, "n2"), (AS, "n2"), (AS, "n3")] {
            nonces.learn(server, nonce);
            assert_eq!(sent(&mut nonces), pair(nonce, nonce));
        }
    }

    fn answer(date: SystemTime, age: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(DATE, HeaderValue::try_from(httpdate::fmt_http_date(date)).unwrap());
        if let Some(age) = age {
            headers.insert(AGE, HeaderValue::try_from(age).unwrap());
        }
        headers
    }

    #[test]
    fn a_cached_answers_server_time_is_its_date_plus_its_age() {
        let made = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(server_time(&answer(made, None)), Some(made));
        assert_eq!(server_time(&answer(made, Some("600"))), Some(made + Duration::from_secs(600)));
        assert_eq!(server_time(&answer(made, Some("old"))), None, "a copy of unknown age teaches no clock");
        assert_eq!(server_time(&answer(made, Some("-5"))), None);
    }
}
