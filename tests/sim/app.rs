//! One schedule: a world drawn from the seed, then app actions drawn from it (bursts of
//! requests, cancellations, sign-out, sign-in as the same or another user, a new process
//! on the same store, a process killed, a store outage, long idle spells, background jobs
//! while saves fail), each started as the app would start it, with the invariants checked
//! after every step. Some worlds' sign-ins come without a refresh token, and some stores'
//! `refresh_lock()` sometimes fails.

use std::sync::Arc;
use std::time::Duration;

use refreshkit::simulation::{self, Probe};
use refreshkit::{
    BodyRule, CallbackError, HttpRequest, Session, SessionConfig, SessionEvent, SessionListener, SessionState,
};
use tokio::time::Instant;

use crate::invariants::{
    check_call, check_event, check_expiry, check_store_behind, check_store_follows, check_text, Violation,
};
use crate::rng::Rng;
use crate::store::SimStore;
use crate::faults::Faults;
use crate::world::{lock, ProcessWatch, ProcessWorld, Shared, State, API, AUTH, FOREIGN};

pub struct Outcome {
    pub violations: Vec<Violation>,
    pub trace: Vec<String>,
}

/// Runs the schedule of `seed` on a runtime of its own, with tokio's clock paused.
pub fn run(seed: u64, traced: bool) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        // Tokio's own random choices (which watch waiter wakes first) follow the seed.
        .rng_seed(tokio::runtime::RngSeed::from_bytes(&seed.to_le_bytes()))
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(async move {
        simulation::enter(crate::wall_start());
        let outcome = drive(seed, traced).await;
        simulation::leave();
        outcome
    })
}

/// The bounds docs/guarantees.md documents, from the world's timeouts.
#[derive(Clone, Copy)]
struct Bounds {
    execute: Duration,
    token: Duration,
    lifecycle: Duration,
}

struct Process {
    id: u64,
    session: Arc<Session>,
}

struct Listener {
    process: u64,
    state: Shared,
}

impl SessionListener for Listener {
    fn on_event(&self, event: SessionEvent) -> Result<(), CallbackError> {
        let mut s = lock(&self.state);
        check_text(&mut s, "an event", &format!("{event:?}"));
        check_event(&mut s, self.process, &event);
        Ok(())
    }
}

async fn drive(seed: u64, traced: bool) -> Outcome {
    let mut rng = Rng::new(seed);
    let faults = Faults::draw(&mut rng);
    let lifetime = rng.millis(5_000, 600_000);
    let (store_ms, refresh_ms, request_ms) =
        (rng.millis(500, 3_000), rng.millis(2_000, 15_000), rng.millis(2_000, 30_000));
    let state: Shared = Arc::new(std::sync::Mutex::new(State::new(Rng::new(rng.next()), faults, lifetime, store_ms)));
    let first = 1 + rng.below(3);
    {
        let mut s = lock(&state);
        s.trace = traced.then(Vec::new);
        s.body_rule = rng.chance(300);
        s.shared_lock = first > 1 || rng.chance(500);
        let (lock_, body_rule) = (s.shared_lock, s.body_rule);
        s.note(|| {
            format!(
                "seed {seed}: {first} processes, lock {lock_}, body rule {body_rule}, lifetime {lifetime:?}, \
                 store timeout {store_ms:?}, refresh timeout {refresh_ms:?}, request timeout {request_ms:?}"
            )
        });
        // One world in six has sign-ins without a refresh token (their expiry runs outside
        // a refresh, when the API rejects the token), and one in four stores with a refresh
        // lock sometimes fails to give it. Drawn apart, as the spell below is.
        let mut rare = Rng::new(seed ^ 0x0b5e_55ed_0b5e_55ed);
        if rare.chance(167) {
            s.bare_logins = 300 + rare.below(701);
            let bare = s.bare_logins;
            s.note(|| format!("{bare} sign-ins in a thousand come without a refresh token"));
        }
        if s.shared_lock && rare.chance(250) {
            s.lock_fails = 20 + rare.below(381);
            let fails = s.lock_fails;
            s.note(|| format!("refresh_lock() fails {fails} times in a thousand"));
        }
        if rng.chance(600) {
            s.stored = Some(s.login(1));
        }
        // One world in sixteen has a long spell of failing saves, and background jobs that
        // refresh many times in it: past the engine's window of recent tokens, the store's
        // older ones must still not look newer. Drawn apart, so the other worlds'
        // schedules stay as they were.
        let mut spell = Rng::new(seed ^ 0xd15c_f011_d15c_f011);
        if spell.chance(62) {
            let ms = lifetime.as_millis() as u64;
            let (from, length) = (spell.millis(0, 60_000), spell.millis(ms, 60 * ms));
            let start = s.start;
            s.saves_fail = Some((start + from, start + from + length));
            s.note(|| format!("every save fails from {from:?} for {length:?}"));
        }
    }
    let long_saves_failing = lock(&state).saves_fail.is_some();
    let (bare_logins, api_slow_ms) = {
        let s = lock(&state);
        (s.bare_logins > 0, s.faults.api_slow_ms)
    };
    let mut config = SessionConfig::new(API);
    config.refresh_path = AUTH.into();
    config.store_timeout_ms = store_ms.as_millis() as u64;
    config.refresh_timeout_ms = refresh_ms.as_millis() as u64;
    config.request_timeout_ms = request_ms.as_millis() as u64;
    config.refresh_leeway_ms = rng.below(60_000);
    config.max_concurrent_requests = 1 + rng.below(8) as u32;
    if lock(&state).body_rule {
        config.expired_body_rule =
            Some(BodyRule { pointer: "/error/code".into(), values: vec!["token_expired".into()] });
    }
    let (s, r, q) = (store_ms, refresh_ms, request_ms);
    let bounds = Bounds { execute: 4 * s + 2 * (r + s) + 2 * q, token: 4 * s + (r + s), lifecycle: r + 4 * s };
    // sign_in and sign_out: the refresh lock (r + s, and s for a lock that overruns),
    // their turn at the store (s), the store call (s).

    let mut processes: Vec<Process> = Vec::new();
    let mut next_id = 0;
    for _ in 0..first {
        next_id += 1;
        processes.push(start_process(&state, next_id, &config));
    }
    let mut next_user = 2;
    let steps = 10 + rng.below(50);
    for step in 0..steps {
        let gap = match rng.below(10) {
            0..=6 => rng.millis(0, 500),
            7 | 8 => rng.millis(0, 10_000),
            _ => rng.millis(0, lifetime.as_millis() as u64),
        };
        tokio::time::sleep(gap).await;
        check_processes(&state, &processes);
        if processes.is_empty() {
            next_id += 1;
            processes.push(start_process(&state, next_id, &config));
            continue;
        }
        let p = &processes[rng.below(processes.len() as u64) as usize];
        let (id, session) = (p.id, Arc::clone(&p.session));
        match rng.below(100) {
            0..=39 => {
                let n = 1 + rng.below(6);
                lock(&state).note(|| format!("step {step}: p{id} burst of {n}"));
                for _ in 0..n {
                    let cancel = if bare_logins {
                        // Often, and soon: a 401 and the expiry after it (the store's lock,
                        // read and clear) are over within that.
                        rng.chance(400).then(|| rng.millis(0, api_slow_ms + 4 * store_ms.as_millis() as u64))
                    } else {
                        rng.chance(150).then(|| rng.millis(0, request_ms.as_millis() as u64))
                    };
                    let post = rng.chance(300);
                    simulation::spawn_as(
                        id,
                        execute(Arc::clone(&state), id, Arc::clone(&session), API, post, cancel, bounds),
                    );
                }
            }
            40..=44 => {
                lock(&state).note(|| format!("step {step}: p{id} request to a foreign host"));
                simulation::spawn_as(id, execute(Arc::clone(&state), id, session, FOREIGN, false, None, bounds));
            }
            45..=51 => {
                lock(&state).note(|| format!("step {step}: p{id} access_token"));
                simulation::spawn_as(id, access_token(Arc::clone(&state), id, session, bounds));
            }
            52..=54 => {
                // The app's own request with the current token got a 401.
                let Some(rejected) = simulation::probe(&session).access_token else { continue };
                let mut s = lock(&state);
                if s.is_bare(&rejected) {
                    if let Some(w) = s.processes.get_mut(&id) {
                        w.bare_rejections += 1;
                    }
                }
                drop(s);
                lock(&state).note(|| format!("step {step}: p{id} refresh_after_unauthorized"));
                simulation::spawn_as(id, after_unauthorized(Arc::clone(&state), id, session, rejected, bounds));
            }
            55..=61 => {
                lock(&state).note(|| format!("step {step}: p{id} sign_out"));
                simulation::spawn_as(id, sign_out(Arc::clone(&state), id, session, bounds));
            }
            62..=72 => {
                let user = if rng.chance(500) {
                    next_user += 1;
                    next_user - 1
                } else {
                    1
                };
                lock(&state).note(|| format!("step {step}: p{id} sign_in as user {user}"));
                simulation::spawn_as(id, sign_in(Arc::clone(&state), id, session, user, bounds));
            }
            // A second process on one store only with the store's refresh lock, as
            // `TokenStore::refresh_lock` asks; without it, one process at a time.
            73..=78 if processes.len() < 4 && lock(&state).shared_lock => {
                next_id += 1;
                lock(&state).note(|| format!("step {step}: p{next_id} starts on the same store"));
                processes.push(start_process(&state, next_id, &config));
            }
            79..=82 => {
                lock(&state).note(|| format!("step {step}: p{id} is killed"));
                simulation::kill(id);
                if let Some(w) = lock(&state).processes.get_mut(&id) {
                    w.alive = false;
                }
                processes.retain(|p| p.id != id);
            }
            83..=86 => {
                let length = rng.millis(0, 10_000);
                let mut s = lock(&state);
                s.note(|| format!("step {step}: the store fails for {length:?}"));
                s.outage_until = Some(Instant::now() + length);
            }
            // A background job (a sync every so often, the phone locked): a request after
            // each expiry, one refresh per round.
            87..=90 if long_saves_failing => {
                let rounds = 10 + rng.below(30);
                lock(&state).note(|| format!("step {step}: p{id} runs a background job of {rounds} rounds"));
                for _ in 0..rounds {
                    // The app's schedule, in the simulation's virtual time (tokio's paused
                    // clock, as for `idles` below): the job wakes after each expiry.
                    tokio::time::sleep(lifetime + rng.millis(0, 1_000)).await;
                    let session = Arc::clone(&session);
                    simulation::spawn_as(id, execute(Arc::clone(&state), id, session, API, false, None, bounds));
                }
            }
            _ => {
                let idle = rng.millis(0, 2 * lifetime.as_millis() as u64);
                lock(&state).note(|| format!("step {step}: the app idles {idle:?}"));
                tokio::time::sleep(idle).await;
            }
        }
        tokio::task::yield_now().await;
    }
    // Quiet: every call ends within its bound (one that never returns is a violation of
    // invariant 6 too); then the store must not be behind.
    tokio::time::sleep(3 * bounds.execute).await;
    let hung = lock(&state).calls_in_flight;
    if hung > 0 {
        let detail = format!("{hung} calls never returned, {:?} after the last step", 3 * bounds.execute);
        lock(&state).violated(crate::invariants::Invariant::CallsAreBounded, detail);
    }
    check_processes(&state, &processes);
    for p in &processes {
        let probe = simulation::probe(&p.session);
        check_store_behind(&mut lock(&state), p.id, &probe);
    }
    collect_log_leaks(&state);
    drop(processes);
    let mut s = lock(&state);
    Outcome {
        violations: std::mem::take(&mut s.violations),
        trace: s.trace.take().unwrap_or_default(),
    }
}

fn start_process(state: &Shared, id: u64, config: &SessionConfig) -> Process {
    {
        let mut s = lock(state);
        let since = s.tick();
        s.processes.insert(id, ProcessWatch { alive: true, since, ..Default::default() });
    }
    let store = Arc::new(SimStore { process: id, state: Arc::clone(state) });
    let world = Arc::new(ProcessWorld { process: id, state: Arc::clone(state) });
    let listener = Arc::new(Listener { process: id, state: Arc::clone(state) });
    let session = simulation::session(id, config.clone(), store, Some(listener), world).expect("a valid configuration");
    Process { id, session }
}

/// Invariants 5 and 8 after every step, and the log records so far (invariant 7).
fn check_processes(state: &Shared, processes: &[Process]) {
    let probes: Vec<(u64, Probe)> = processes.iter().map(|p| (p.id, simulation::probe(&p.session))).collect();
    let mut s = lock(state);
    for (id, probe) in &probes {
        check_expiry(&mut s, *id, probe);
        check_store_follows(&mut s, *id, probe);
    }
    drop(s);
    collect_log_leaks(state);
}

fn collect_log_leaks(state: &Shared) {
    for leak in crate::take_log_leaks() {
        lock(state)
            .violated(crate::invariants::Invariant::NoTokenInText, format!("a log record shows a token: {leak}"));
    }
}

/// One of the app's calls while it runs, counted in `State::calls_in_flight`.
struct Running(Shared);

impl Running {
    fn start(state: &Shared) -> Running {
        lock(state).calls_in_flight += 1;
        Running(Arc::clone(state))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        lock(&self.0).calls_in_flight -= 1;
    }
}

async fn execute(
    state: Shared,
    process: u64,
    session: Arc<Session>,
    base: &'static str,
    post: bool,
    cancel: Option<Duration>,
    bounds: Bounds,
) {
    let id = {
        let mut s = lock(&state);
        // The sign-in the request starts under is the session's, as the engine has it now;
        // unknown while the store is unread or a sign-in or sign-out is under way.
        let watch = s.processes.get(&process);
        let settled = watch.is_some_and(|w| w.changing == 0)
            && !matches!(session.state(), SessionState::Loading | SessionState::Locked);
        let current = simulation::probe(&session).access_token;
        let user = settled.then(|| current.and_then(|t| s.user_of_access(&t)));
        let since = watch.map_or(0, |w| w.since);
        s.requests.push(crate::world::AppRequest { user, since });
        s.requests.len() - 1
    };
    let url = format!("{base}/r?id={id}");
    let request = if post { HttpRequest::post(url, b"{}".to_vec()) } else { HttpRequest::get(url) };
    let _running = Running::start(&state);
    let started = Instant::now();
    let call = session.execute(request);
    let result = match cancel {
        Some(after) => match tokio::time::timeout(after, call).await {
            Ok(result) => result,
            Err(_) => {
                lock(&state).note(|| format!("p{process} request #{id} cancelled"));
                return;
            }
        },
        None => call.await,
    };
    let mut s = lock(&state);
    s.note(|| format!("p{process} request #{id} -> {:?}", result.as_ref().map(|r| r.status)));
    check_call(&mut s, process, "execute", (started.elapsed(), bounds.execute), &result);
}

async fn access_token(state: Shared, process: u64, session: Arc<Session>, bounds: Bounds) {
    let _running = Running::start(&state);
    let started = Instant::now();
    let result = session.access_token().await;
    let mut s = lock(&state);
    check_call(&mut s, process, "access_token", (started.elapsed(), bounds.token), &result);
}

async fn after_unauthorized(state: Shared, process: u64, session: Arc<Session>, rejected: String, bounds: Bounds) {
    let _running = Running::start(&state);
    let started = Instant::now();
    let result = session.refresh_after_unauthorized(rejected).await;
    let mut s = lock(&state);
    s.note(|| {
        format!("p{process} refresh_after_unauthorized -> {}", if result.is_ok() { "a token" } else { "an error" })
    });
    check_call(&mut s, process, "refresh_after_unauthorized", (started.elapsed(), bounds.token), &result);
}

async fn sign_in(state: Shared, process: u64, session: Arc<Session>, user: u32, bounds: Bounds) {
    let (tokens, attempt) = {
        let mut s = lock(&state);
        let tokens = s.login(user);
        if let Some(w) = s.processes.get_mut(&process) {
            w.changing += 1;
            w.signing_in += 1;
            w.sign_ins_started += 1;
            w.signed_out = false;
        }
        let at = s.tick();
        let access_token = tokens.access_token.clone();
        s.sign_ins.push(crate::world::SignIn { process, user, failed: false, ended: u64::MAX, access_token, landed: 0 });
        if let Some(w) = s.processes.get_mut(&process) {
            w.pending_since = at;
        }
        s.signed_out_everywhere = false;
        (tokens, s.sign_ins.len() - 1)
    };
    let _running = Running::start(&state);
    let started = Instant::now();
    let result = session.sign_in(tokens).await;
    let mut s = lock(&state);
    if let Some(w) = s.processes.get_mut(&process) {
        w.changing -= 1;
        w.signing_in -= 1;
        if result.is_ok() {
            (w.since, w.rejections, w.empty_reads, w.bare_rejections) = (w.pending_since, 0, 0, 0);
        }
    }
    s.sign_ins[attempt].failed = result.is_err();
    s.sign_ins[attempt].ended = s.tick();
    s.note(|| format!("p{process} sign_in as {user} -> {result:?}"));
    check_call(&mut s, process, "sign_in", (started.elapsed(), bounds.lifecycle), &result);
}

async fn sign_out(state: Shared, process: u64, session: Arc<Session>, bounds: Bounds) {
    let (sign_ins, all_sign_ins) = {
        let mut s = lock(&state);
        let w = s.processes.get_mut(&process).expect("a started process");
        w.changing += 1;
        (w.sign_ins_started, s.sign_ins.len())
    };
    let _running = Running::start(&state);
    let started = Instant::now();
    let result = session.sign_out().await;
    let mut s = lock(&state);
    let at = s.tick();
    if let Some(w) = s.processes.get_mut(&process) {
        w.changing -= 1;
        if result.is_ok() {
            w.since = at;
            w.sign_outs += 1;
            // A sign-in that started meanwhile may legitimately save after this.
            w.signed_out = w.signing_in == 0 && w.sign_ins_started == sign_ins;
        }
        let any_signing_in = s.processes.values().any(|w| w.alive && w.signing_in > 0);
        if result.is_ok() && !any_signing_in && s.sign_ins.len() == all_sign_ins {
            s.signed_out_everywhere = true;
        }
    }
    s.note(|| format!("p{process} sign_out -> {result:?}"));
    check_call(&mut s, process, "sign_out", (started.elapsed(), bounds.lifecycle), &result);
}
