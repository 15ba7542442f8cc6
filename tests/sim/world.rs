//! The simulated world around the real engine: an auth server that rotates refresh
//! tokens with reuse detection, an API that checks access tokens, one token store shared
//! by every simulated process (with a refresh lock), and the faults of each, all drawn
//! from the run's seed. The world also watches what the engine does to it, and records
//! every broken invariant (invariants.rs names them) the moment it sees it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use refreshkit::simulation::{Answer, World};
use refreshkit::{SessionError, Tokens};
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use crate::faults::Faults;
use crate::invariants::{Invariant, Violation};
use crate::rng::Rng;

pub const API: &str = "https://api.sim";
pub const AUTH: &str = "https://auth.sim/oauth/token";
pub const FOREIGN: &str = "https://cdn.sim/asset";
/// Every token the world issues carries this, so a leak is found by a substring search.
pub const SECRET_MARK: &str = "sim-tok-";

struct AccessInfo {
    user: u32,
    family: usize,
    seq: u64,
    expires: Instant,
}

struct RefreshInfo {
    family: usize,
    parent: Option<String>,
    used: bool,
}

struct Family {
    user: u32,
    revoked: bool,
    /// Its tokens come without a refresh token: the session ends when the API rejects one.
    bare: bool,
}

/// What the world knows about one simulated process (one `Session`).
#[derive(Default)]
pub struct ProcessWatch {
    pub alive: bool,
    /// When the process's current sign-in started (or the process, or its last sign-out).
    pub since: u64,
    /// When the sign-in under way started.
    pub pending_since: u64,
    /// Sign-ins and sign-outs under way: the user is not known while one runs.
    pub changing: u32,
    /// `sign_out` returned and no `sign_in` started since.
    pub signed_out: bool,
    pub signing_in: u32,
    pub sign_ins_started: u32,
    pub sign_outs: u32,
    /// Refresh rejections delivered, and empty store reads, since the last sign-in.
    pub rejections: u32,
    pub empty_reads: u32,
    /// Rejections of an access token that came without a refresh token (the API's, or the
    /// app's `refresh_after_unauthorized`), since the last sign-in.
    pub bare_rejections: u32,
    /// The last of the app's events about the session's life was `Expired` (invariant 8).
    pub heard_expired: bool,
    /// The epoch whose expiry was already checked.
    pub expiry_checked: Option<u64>,
}

pub struct SignIn {
    pub process: u64,
    pub user: u32,
    pub failed: bool,
    /// When it returned (`u64::MAX` while it runs).
    pub ended: u64,
    /// Its tokens, and when the store got them (0 until then): a save still running
    /// when the call failed lands later, and the sign-in with it.
    pub access_token: String,
    pub landed: u64,
}

/// A request the app made, for invariant 2.
pub struct AppRequest {
    /// The user it belongs to; `None` when a sign-in or sign-out was under way.
    pub user: Option<Option<u32>>,
    /// When that user's sign-in started (or the store was read).
    pub since: u64,
}

pub struct State {
    pub rng: Rng,
    pub faults: Faults,
    pub lifetime: Duration,
    pub body_rule: bool,
    pub shared_lock: bool,
    pub store_timeout: Duration,
    /// A store outage under way until then: every call fails or hangs.
    pub outage_until: Option<Instant>,
    /// A long spell in which every save fails while loads and clears work (a full disk;
    /// a Keystore key that needs an unlocked device while the app works in the background).
    pub saves_fail: Option<(Instant, Instant)>,
    /// How often, per thousand, a sign-in's tokens come without a refresh token.
    pub bare_logins: u64,
    /// How often, per thousand, the store's `refresh_lock()` fails (a Kotlin or Swift
    /// exception, which arrives as a panic).
    pub lock_fails: u64,
    seq: u64,
    next_token: u64,
    access: HashMap<String, AccessInfo>,
    refresh: HashMap<String, RefreshInfo>,
    families: Vec<Family>,
    pub stored: Option<Tokens>,
    pub lock_holder: Option<u64>,
    pub next_lock: u64,
    pub processes: BTreeMap<u64, ProcessWatch>,
    pub requests: Vec<AppRequest>,
    /// Sign-ins started (process, step, user, and whether it failed), for invariant 2:
    /// processes share one store, so another process's sign-in is adopted by design.
    pub sign_ins: Vec<SignIn>,
    refreshing: HashMap<(u64, usize, u32), u32>,
    delivered: HashSet<(u64, String)>,
    superseded: HashSet<String>,
    /// Every refresh call, by refresh token: the process and the step it was sent at.
    sends: HashMap<String, Vec<(u64, u64)>>,
    /// The refresh tokens whose rotation reached a process: which, and when it sent them.
    rotated_for: HashMap<String, (u64, u64)>,
    /// The process whose clear emptied the store, and when, while it stays empty
    /// (invariant 8).
    pub cleared_by: Option<(u64, Instant)>,
    /// A `sign_out` returned and no `sign_in` started since, in any process.
    pub signed_out_everywhere: bool,
    /// The app's calls that have not returned yet (a killed process's calls end with it).
    pub calls_in_flight: u64,
    pub violations: Vec<Violation>,
    pub trace: Option<Vec<String>>,
    pub start: Instant,
    pub refresh_calls: u64,
    pub api_calls: u64,
}

pub type Shared = Arc<Mutex<State>>;

pub fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    /// Every ancestor of a saved refresh token is now spent for good (invariant 1).
    pub fn supersede_ancestors(&mut self, refresh_token: &str) {
        let mut ancestor = self.refresh.get(refresh_token).and_then(|r| r.parent.clone());
        while let Some(a) = ancestor {
            ancestor = self.refresh.get(&a).and_then(|r| r.parent.clone());
            self.superseded.insert(a);
        }
    }

    pub fn new(rng: Rng, faults: Faults, lifetime: Duration, store_timeout: Duration) -> State {
        State {
            rng,
            faults,
            lifetime,
            body_rule: false,
            shared_lock: false,
            store_timeout,
            outage_until: None,
            saves_fail: None,
            bare_logins: 0,
            lock_fails: 0,
            seq: 0,
            next_token: 0,
            access: HashMap::new(),
            refresh: HashMap::new(),
            families: Vec::new(),
            stored: None,
            lock_holder: None,
            next_lock: 0,
            processes: BTreeMap::new(),
            requests: Vec::new(),
            sign_ins: Vec::new(),
            refreshing: HashMap::new(),
            delivered: HashSet::new(),
            superseded: HashSet::new(),
            sends: HashMap::new(),
            rotated_for: HashMap::new(),
            cleared_by: None,
            signed_out_everywhere: false,
            calls_in_flight: 0,
            violations: Vec::new(),
            trace: None,
            start: Instant::now(),
            refresh_calls: 0,
            api_calls: 0,
        }
    }

    /// A step number: orders what happens in the world.
    pub fn tick(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn note(&mut self, what: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.trace {
            let t = self.start.elapsed();
            trace.push(format!("{:>4}.{:03}s {}", t.as_secs(), t.subsec_millis(), what()));
        }
    }

    pub fn violated(&mut self, invariant: Invariant, detail: String) {
        let at = self.start.elapsed();
        self.note(|| format!("VIOLATION {invariant}: {detail}"));
        self.violations.push(Violation { invariant, detail, at });
    }

    /// The login: a new token family for `user`, as the app's sign-in screen gets it.
    pub fn login(&mut self, user: u32) -> Tokens {
        let bare_logins = self.bare_logins;
        // Only in the worlds that have them, so the others' schedules stay as they were.
        let bare = bare_logins > 0 && self.rng.chance(bare_logins);
        self.families.push(Family { user, revoked: false, bare });
        let family = self.families.len() - 1;
        self.issue(family, None)
    }

    fn issue(&mut self, family: usize, parent: Option<String>) -> Tokens {
        self.next_token += 1;
        let n = self.next_token;
        let seq = self.tick();
        let (access, refresh) = (format!("{SECRET_MARK}a{n}"), format!("{SECRET_MARK}r{n}"));
        let expires = Instant::now() + self.lifetime;
        let user = self.families[family].user;
        self.access.insert(access.clone(), AccessInfo { user, family, seq, expires });
        let wall = crate::wall_start() + self.start.elapsed() + self.lifetime;
        if self.families[family].bare {
            return Tokens::new(access, None, Some(wall));
        }
        self.refresh.insert(refresh.clone(), RefreshInfo { family, parent, used: false });
        Tokens::new(access, Some(refresh), Some(wall))
    }

    /// Whether `token` is an access token that came without a refresh token.
    pub fn is_bare(&self, token: &str) -> bool {
        self.access.get(token).is_some_and(|a| self.families[a.family].bare)
    }

    /// Whether `process` runs (a killed process's lock went with it).
    pub fn alive(&self, process: u64) -> bool {
        self.processes.get(&process).is_some_and(|w| w.alive)
    }

    pub fn user_of_access(&self, token: &str) -> Option<u32> {
        self.access.get(token).map(|a| a.user)
    }

    /// The issue order of stored tokens, for invariant 4.
    pub fn seq_of_access(&self, token: &str) -> Option<(usize, u64)> {
        self.access.get(token).map(|a| (a.family, a.seq))
    }
}

/// One simulated process's view of the world: its network and its store's timing.
pub struct ProcessWorld {
    pub process: u64,
    pub state: Shared,
}

impl World for ProcessWorld {
    fn exchange(
        &self,
        request: reqwest::Request,
    ) -> Pin<Box<dyn Future<Output = Result<Answer, SessionError>> + Send>> {
        let state = Arc::clone(&self.state);
        let process = self.process;
        let host = request.url().host_str().unwrap_or("").to_owned();
        let auth = request.headers().get("authorization").map(|v| v.to_str().unwrap_or("?").to_owned());
        let body = request.body().and_then(|b| b.as_bytes()).map(<[u8]>::to_vec).unwrap_or_default();
        let id = request.url().query_pairs().find(|(k, _)| k == "id").and_then(|(_, v)| v.parse::<usize>().ok());
        if host == "auth.sim" {
            Box::pin(refresh_call(state, process, auth, body))
        } else {
            Box::pin(api_call(state, process, host, auth, id))
        }
    }

    fn store_call_time(&self) -> Duration {
        let mut s = lock(&self.state);
        let outage = s.outage_until.is_some_and(|until| Instant::now() < until);
        let hang = s.faults.store_hang;
        if outage || s.rng.chance(hang) {
            let timeout = s.store_timeout;
            return timeout + s.rng.millis(0, 3_000);
        }
        let slow = s.faults.store_slow_ms;
        s.rng.millis(0, slow)
    }
}

/// Never answers: a request or answer the network lost (the engine's bound ends it).
async fn lost() -> Result<Answer, SessionError> {
    std::future::pending::<()>().await;
    unreachable!()
}

fn answer(status: u16, body: impl Into<Bytes>) -> Answer {
    Answer { status, headers: HeaderMap::new(), body: body.into() }
}

enum Fate {
    Lost,
    Unavailable,
    Served,
}

/// Ends a refresh call in the world's books however it ends (answered, timed out,
/// its process killed).
struct Refreshing {
    state: Shared,
    key: (u64, usize, u32),
}

impl Drop for Refreshing {
    fn drop(&mut self) {
        let mut s = lock(&self.state);
        if let Some(n) = s.refreshing.get_mut(&self.key) {
            *n -= 1;
        }
    }
}

async fn refresh_call(
    state: Shared,
    process: u64,
    auth: Option<String>,
    body: Vec<u8>,
) -> Result<Answer, SessionError> {
    let token = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "refresh_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let (fate, before, after, lost_after, sent, _busy) = {
        let mut s = lock(&state);
        s.refresh_calls += 1;
        s.note(|| format!("p{process} refresh call with {token}"));
        if auth.is_some() {
            s.violated(
                Invariant::TokenStaysHome,
                format!("p{process}: the refresh call carried an Authorization header"),
            );
        }
        let family = s.refresh.get(&token).map_or(usize::MAX, |r| r.family);
        // A call of an earlier sign-in may still be on the wire: the engine lets it end.
        let sign_in = s.processes.get(&process).map_or(0, |w| w.sign_ins_started + w.sign_outs);
        let key = (process, family, sign_in);
        let concurrent = s.refreshing.get(&key).copied().unwrap_or(0);
        if concurrent > 0 && family != usize::MAX {
            s.violated(
                Invariant::OneRefreshPerGeneration,
                format!("p{process}: a second refresh call while one is on the wire"),
            );
        }
        *s.refreshing.entry(key).or_default() += 1;
        if s.delivered.contains(&(process, token.clone())) {
            s.violated(
                Invariant::OneRefreshPerGeneration,
                format!("p{process}: sent refresh token {token} again after its rotation reached it"),
            );
        }
        let sent = s.tick();
        s.sends.entry(token.clone()).or_default().push((process, sent));
        // With the shared lock, a rotation that reached a process is that process's to
        // save before anyone else refreshes: the lock stays held until the store has it.
        // Only a process killed before it saved lets the lock go with the old tokens
        // still in the store (the OS releases a dead process's lock).
        let rotated = s.rotated_for.get(&token).map(|&(p, _)| p).filter(|&p| p != process);
        // Excepted: a family the server has revoked (another process's refresh was
        // rejected, and its clear of the store failed). Its tokens serve nobody any more,
        // so sending one again costs nothing; keeping the lock until the clear lands would
        // only keep the other processes from hearing that the session is over.
        let revoked = s.families.get(family).is_some_and(|f| f.revoked);
        if let Some(p) = rotated.filter(|&p| s.shared_lock && s.alive(p) && !revoked) {
            s.violated(
                Invariant::OneRefreshPerGeneration,
                format!("p{process}: sent refresh token {token}, whose rotation had reached p{p}, still running"),
            );
        } else if s.shared_lock && s.superseded.contains(&token) {
            s.violated(
                Invariant::OneRefreshPerGeneration,
                format!("p{process}: sent refresh token {token}, whose successor the shared store already held"),
            );
        }
        let f = &s.faults;
        let (lost_before, unavailable, lost_after, slow) =
            (f.refresh_lost_before, f.refresh_5xx, f.refresh_lost_after, f.refresh_slow_ms);
        let fate = if s.rng.chance(lost_before) {
            Fate::Lost
        } else if s.rng.chance(unavailable) {
            Fate::Unavailable
        } else {
            Fate::Served
        };
        let lost_after = s.rng.chance(lost_after);
        let (before, after) = (s.rng.millis(0, slow / 2), s.rng.millis(0, slow / 2));
        (fate, before, after, lost_after, sent, Refreshing { state: Arc::clone(&state), key })
    };
    tokio::time::sleep(before).await;
    match fate {
        Fate::Lost => return lost().await,
        Fate::Unavailable => return Ok(answer(503, "")),
        Fate::Served => {}
    }
    let outcome = {
        let mut s = lock(&state);
        let revoke = s.faults.refresh_revoked;
        let spurious = s.rng.chance(revoke);
        let outcome = rotate(&mut s, &token, spurious);
        let duplicated = s.faults.refresh_duplicated;
        if s.rng.chance(duplicated) {
            let again = rotate(&mut s, &token, false).err().unwrap_or("rotated twice");
            s.note(|| format!("the network delivered the refresh of {token} twice: {again}"));
        }
        s.note(|| match &outcome {
            Ok(t) => format!("auth server rotated {token} to {}", t.refresh_token.as_deref().unwrap_or("")),
            Err(why) => format!("auth server rejected {token}: {why}"),
        });
        outcome
    };
    tokio::time::sleep(after).await;
    if lost_after {
        lock(&state).note(|| format!("p{process}: the refresh answer is lost"));
        return lost().await;
    }
    let mut s = lock(&state);
    match outcome {
        Ok(tokens) => {
            // Another process that sent the same token after this one did, while this one
            // waited for its answer (and so held the shared lock), refreshed without it.
            let after_this: Vec<u64> = s.sends[&token]
                .iter()
                .filter(|&&(p, at)| p != process && at > sent && s.alive(p))
                .map(|&(p, _)| p)
                .collect();
            if s.shared_lock {
                for p in after_this {
                    s.violated(
                        Invariant::OneRefreshPerGeneration,
                        format!("p{p}: sent refresh token {token} while p{process} waited for its rotation"),
                    );
                }
            }
            s.rotated_for.insert(token.clone(), (process, sent));
            s.delivered.insert((process, token));
            let body = format!(
                r#"{{"access_token":"{}","refresh_token":"{}","expires_in":{}}}"#,
                tokens.access_token,
                tokens.refresh_token.unwrap_or_default(),
                s.lifetime.as_secs()
            );
            Ok(answer(200, body))
        }
        Err(_) => {
            if let Some(w) = s.processes.get_mut(&process) {
                w.rejections += 1;
            }
            Ok(answer(400, r#"{"error":"invalid_grant"}"#))
        }
    }
}

/// The auth server's rotation: a used refresh token revokes its whole family (reuse
/// detection, as OAuth 2.0 Security BCP 4.14.2 asks).
fn rotate(s: &mut State, token: &str, revoked_by_admin: bool) -> Result<Tokens, &'static str> {
    let Some(info) = s.refresh.get(token) else { return Err("unknown") };
    let family = info.family;
    if s.families[family].revoked {
        return Err("family revoked");
    }
    if info.used {
        s.families[family].revoked = true;
        return Err("reuse detected, family revoked");
    }
    if revoked_by_admin {
        s.families[family].revoked = true;
        return Err("revoked on the server");
    }
    s.refresh.get_mut(token).expect("known").used = true;
    Ok(s.issue(family, Some(token.to_owned())))
}

async fn api_call(
    state: Shared,
    process: u64,
    host: String,
    auth: Option<String>,
    id: Option<usize>,
) -> Result<Answer, SessionError> {
    let token = auth.as_deref().map(|a| a.strip_prefix("Bearer ").unwrap_or(a).to_owned());
    let (fate, delay) = {
        let mut s = lock(&state);
        s.api_calls += 1;
        s.note(|| format!("p{process} {host} request #{id:?} with {token:?}"));
        check_request(&mut s, process, &host, token.as_deref(), id);
        let f = &s.faults;
        let (lost, unavailable, slow) = (f.api_lost, f.api_5xx, f.api_slow_ms);
        let fate = if s.rng.chance(lost) {
            Fate::Lost
        } else if s.rng.chance(unavailable) {
            Fate::Unavailable
        } else {
            Fate::Served
        };
        (fate, s.rng.millis(0, slow))
    };
    tokio::time::sleep(delay).await;
    match fate {
        Fate::Lost => return lost().await,
        Fate::Unavailable => return Ok(answer(503, "")),
        Fate::Served => {}
    }
    let mut s = lock(&state);
    if host != "api.sim" {
        return Ok(answer(200, "asset"));
    }
    let valid = token
        .as_deref()
        .and_then(|t| s.access.get(t))
        .is_some_and(|a| Instant::now() < a.expires && !s.families[a.family].revoked);
    if !valid && token.as_deref().is_some_and(|t| s.is_bare(t)) {
        if let Some(w) = s.processes.get_mut(&process) {
            w.bare_rejections += 1;
        }
    }
    Ok(match (valid, s.body_rule) {
        (true, _) => answer(200, r#"{"ok":true}"#),
        (false, false) => answer(401, ""),
        (false, true) => answer(200, r#"{"error":{"code":"token_expired"}}"#),
    })
}

/// Invariant 2, as the request arrives: a token only to its host, and only the token of
/// the sign-in the request started under.
fn check_request(s: &mut State, process: u64, host: &str, token: Option<&str>, id: Option<usize>) {
    let Some(token) = token else { return };
    if host != "api.sim" {
        s.violated(Invariant::TokenStaysHome, format!("p{process}: a token went to {host}"));
        return;
    }
    let Some(user) = s.user_of_access(token) else {
        s.violated(Invariant::TokenStaysHome, format!("p{process}: sent a token the server never issued"));
        return;
    };
    let Some(request) = id.and_then(|id| s.requests.get(id)) else { return };
    let Some(expected) = request.user else { return };
    if expected == Some(user) {
        return;
    }
    // Processes share one store: another process's later sign-in is adopted from it by
    // design (the last sign-in wins).
    let since = request.since;
    if s.sign_ins.iter().any(|i| i.process != process && i.user == user && i.ended.max(i.landed) >= since) {
        return;
    }
    let detail =
        format!("p{process}: request #{} of user {expected:?} carried a token of user {user}", id.unwrap_or(0));
    s.violated(Invariant::TokenStaysHome, detail);
}
