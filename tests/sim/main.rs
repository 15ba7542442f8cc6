//! A deterministic simulation of the engine: the real `Session` in a simulated world
//! (virtual time, a seeded schedule, a simulated auth server, API and shared store, and
//! their faults), with eight invariants checked on every step. See docs/simulation.md
//! and src/simulation.rs for the seams it runs through.
//!
//! - `cargo test --features simulation --test sim` runs the CI seed range
//!   (`SIM_SCHEDULES`, default below; `SIM_FIRST_SEED`, default 0) and ends with
//!   `simulation: <N> schedules, <V> invariant violations`.
//! - `SIM_SEED=<seed>` (`make sim SEED=<seed>`) replays one seed and prints its trace.

#[cfg(not(tokio_unstable))]
compile_error!("run the simulation with scripts/sim.sh: a seeded tokio needs --cfg tokio_unstable");

mod app;
mod faults;
mod invariants;
mod rng;
mod store;
mod world;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant, SystemTime};

/// The schedules CI runs: about 55 s on this 2-core machine when it is otherwise idle,
/// about two minutes while it builds something else.
const CI_SCHEDULES: u64 = 300_000;

/// The wall-clock time every world starts at (its tokens' expiry is measured from it).
pub fn wall_start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

thread_local! {
    static LOG_LEAKS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Log records that show a token, on this thread (each schedule runs on one thread).
pub fn take_log_leaks() -> Vec<String> {
    LOG_LEAKS.take()
}

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        let text = record.args().to_string();
        if text.contains(world::SECRET_MARK) {
            LOG_LEAKS.with_borrow_mut(|leaks| leaks.push(text));
        }
    }

    fn flush(&self) {}
}

fn capture_logs() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        log::set_boxed_logger(Box::new(Capture)).expect("no other logger in this binary");
        log::set_max_level(log::LevelFilter::Trace);
    });
}

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn report(seed: u64) {
    let outcome = app::run(seed, true);
    // The steps up to the first violation (or the last ones), and a few after it;
    // SIM_TRACE_LINES widens the window.
    let first = outcome.trace.iter().position(|l| l.contains("VIOLATION"));
    let end = first.map_or(outcome.trace.len(), |i| i + 5).min(outcome.trace.len());
    let start = end.saturating_sub(env("SIM_TRACE_LINES").unwrap_or(80) as usize);
    eprintln!("--- seed {seed}: trace, steps {start}..{end} of {} ---", outcome.trace.len());
    for line in &outcome.trace[start..end] {
        eprintln!("{line}");
    }
    for v in &outcome.violations {
        eprintln!("violated {} at {:?}: {}", v.invariant, v.at, v.detail);
    }
    eprintln!("replay: make sim SEED={seed}");
}

#[test]
fn seeded_schedules_keep_every_invariant() {
    capture_logs();
    let first = env("SIM_FIRST_SEED").unwrap_or(0);
    let count = env("SIM_SCHEDULES").unwrap_or(CI_SCHEDULES);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let next = Arc::new(AtomicU64::new(first));
    let failing = Arc::new(Mutex::new(Vec::<(u64, usize, Duration)>::new()));
    let by_invariant = Arc::new(Mutex::new(std::collections::BTreeMap::<invariants::Invariant, (u64, u64)>::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (next, failing, by_invariant) = (Arc::clone(&next), Arc::clone(&failing), Arc::clone(&by_invariant));
            std::thread::spawn(move || {
                capture_logs();
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= first + count {
                        break;
                    }
                    let outcome = app::run(seed, false);
                    for v in &outcome.violations {
                        let mut counts = by_invariant.lock().unwrap();
                        let entry = counts.entry(v.invariant).or_insert((0, seed));
                        entry.0 += 1;
                        entry.1 = entry.1.min(seed);
                    }
                    if !outcome.violations.is_empty() {
                        failing.lock().unwrap().push((seed, outcome.violations.len(), started.elapsed()));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a simulation thread panicked");
    }
    let elapsed = started.elapsed();
    let mut failing = failing.lock().unwrap().clone();
    failing.sort();
    let violations: usize = failing.iter().map(|f| f.1).sum();
    for (invariant, (n, seed)) in by_invariant.lock().unwrap().iter() {
        eprintln!("invariant {invariant}: {n} violations, first seed {seed}");
    }
    for &(seed, n, at) in failing.iter().take(5) {
        eprintln!("seed {seed}: {n} violations (found after {at:.1?})");
    }
    if let Some(&(seed, _, _)) = failing.first() {
        report(seed);
    }
    println!(
        "simulation: {count} schedules, {violations} invariant violations ({:.1?}, {:.0} schedules/s, seeds {first}..{})",
        elapsed,
        count as f64 / elapsed.as_secs_f64(),
        first + count
    );
    assert_eq!(violations, 0, "seeds {:?} broke invariants", failing.iter().map(|f| f.0).collect::<Vec<_>>());
}

#[test]
fn a_seed_replays_the_same_schedule() {
    capture_logs();
    if let Some(seed) = env("SIM_SEED") {
        report(seed);
        let (one, two) = (app::run(seed, true), app::run(seed, true));
        assert_eq!(one.trace, two.trace, "seed {seed} ran two different schedules");
        assert!(one.violations.is_empty(), "seed {seed} broke invariants");
        return;
    }
    // Seeds with several processes, kills and outages.
    for seed in [4, 7, 31, 367, 736, 28217, 212913] {
        let (one, two) = (app::run(seed, true), app::run(seed, true));
        assert!(one.trace.len() > 5, "seed {seed}: the schedule did something");
        assert_eq!(one.trace, two.trace, "seed {seed} ran two different schedules");
    }
}
