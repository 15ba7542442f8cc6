//! A mutation fuzzer for everything that parses untrusted bytes: refresh answers in both
//! protocols, JWT payloads, the expiry body rule and the configuration. It runs on
//! stable Rust: seeds from `tests/fuzz/corpus/<target>/`,
//! random mutations, every call under `catch_unwind`. A panic fails the run and saves
//! the input under `target/fuzz-crashes/`.
//!
//! `cargo test --test fuzz` runs each target for 2 s (CI); `make fuzz` for longer
//! (REFRESHKIT_FUZZ_SECONDS per target). The same targets, with the same input decoding
//! (targets.rs), run coverage-guided under cargo-fuzz on nightly: `make cargo-fuzz`
//! (tests/cargo-fuzz).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod targets;

/// Inputs stay small: parsers must not need big inputs to misbehave, and memory stays bounded.
const MAX_INPUT: usize = 8 * 1024;

/// Fragments that steer mutations towards interesting JSON, JWTs and URLs.
const DICTIONARY: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"18446744073709551616",
    b"\"access_token\"",
    b"\"refresh_token\"",
    b"\"expires_in\"",
    b"\"exp\"",
    b"\"data\"",
    b"\"token\"",
    b"\\u0000",
    b"\\ud800",
    b".",
    b"=",
    b"/",
    b"~1",
    b"~0",
    b"http://",
    b"https://",
    b"[::1]",
    b"%",
    b"\n",
    b"\xff",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        let last = input.len().saturating_sub(1);
        match rng.below(7) {
            0 if !input.is_empty() => input[at.min(last)] ^= 1 << rng.below(8),
            1 if !input.is_empty() => input[at.min(last)] = rng.next() as u8,
            2 => input.splice(at..at, DICTIONARY[rng.below(DICTIONARY.len())].iter().copied()).for_each(drop),
            3 if !input.is_empty() => {
                let end = (at + rng.below(16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            4 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len());
                let piece = other[from..(from + rng.below(64)).min(other.len())].to_vec();
                input.splice(at..at, piece).for_each(drop);
            }
            5 => input.truncate(at),
            _ => input.insert(at, rng.next() as u8),
        }
    }
    input.truncate(MAX_INPUT);
}

fn corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    seeds.push(Vec::new());
    seeds
}

fn fuzz(name: &str, budget: Duration, seed: u64) -> (u64, Vec<PathBuf>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = corpus(&root.join("tests/fuzz/corpus").join(name));
    let crashes_dir = root.join("target/fuzz-crashes");
    let mut rng = Rng(seed);
    let (started, mut runs, mut crashes) = (Instant::now(), 0u64, Vec::new());
    while started.elapsed() < budget && crashes.len() < 5 {
        let mut input = corpus[rng.below(corpus.len())].clone();
        if runs >= corpus.len() as u64 {
            mutate(&mut rng, &mut input, &corpus);
        }
        runs += 1;
        if catch_unwind(AssertUnwindSafe(|| targets::run(name, &input))).is_err() {
            std::fs::create_dir_all(&crashes_dir).unwrap();
            let path = crashes_dir.join(format!("{name}-{seed}-{runs}.bin"));
            std::fs::write(&path, &input).unwrap();
            crashes.push(path);
        }
    }
    (runs, crashes)
}

#[test]
fn no_parser_of_untrusted_bytes_panics() {
    let seconds = std::env::var("REFRESHKIT_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    let seed = std::env::var("REFRESHKIT_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    let mut all_crashes = Vec::new();
    for name in targets::TARGETS {
        let (runs, crashes) = fuzz(name, Duration::from_secs(seconds), seed);
        println!("fuzz {name:<14} {runs:>9} inputs, {} panics (seed {seed})", crashes.len());
        all_crashes.extend(crashes);
    }
    assert!(all_crashes.is_empty(), "panicking inputs saved: {all_crashes:?}");
}
