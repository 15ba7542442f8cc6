//! How a fuzz input's bytes become the arguments of each `refreshkit::fuzzing` entry
//! point. Shared by the stable mutation fuzzer (tests/fuzz/main.rs) and the cargo-fuzz
//! targets (tests/cargo-fuzz/fuzz_targets/), so both read the seeds in
//! `tests/fuzz/corpus/<target>/` the same way. Each cargo-fuzz target uses one function.
#![allow(dead_code)]

use refreshkit::fuzzing;

/// Every target, in the order the fuzzers run them.
pub const TARGETS: [&str; 6] = ["refresh_oauth", "refresh_json", "jwt", "body_rule", "config", "www_authenticate"];

/// Pointer, value and body, separated by the first two NUL bytes.
fn split3(input: &[u8]) -> (String, String, &[u8]) {
    let mut parts = input.splitn(3, |b| *b == 0);
    let a = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let b = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    (a, b, parts.next().unwrap_or_default())
}

/// The first two bytes are the HTTP status (big-endian, modulo 600), the rest the body.
fn status_and_body(input: &[u8]) -> (u16, &[u8]) {
    match input {
        [hi, lo, body @ ..] => (u16::from_be_bytes([*hi, *lo]) % 600, body),
        _ => (200, input),
    }
}

pub fn refresh_oauth(input: &[u8]) {
    let (status, body) = status_and_body(input);
    fuzzing::refresh_answer(false, status, body)
}

pub fn refresh_json(input: &[u8]) {
    let (status, body) = status_and_body(input);
    fuzzing::refresh_answer(true, status, body)
}

pub fn jwt(input: &[u8]) {
    fuzzing::jwt_expiry(&String::from_utf8_lossy(input))
}

pub fn body_rule(input: &[u8]) {
    let (pointer, value, body) = split3(input);
    fuzzing::body_rule(&pointer, &value, body)
}

/// Five text fields, one a line: base URL, refresh path, header name, header scheme,
/// and one text used as both a token host and the body rule's pointer.
pub fn config(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let mut fields = text.splitn(5, '\n');
    let mut next = || fields.next().unwrap_or("");
    fuzzing::config([next(), next(), next(), next(), next()])
}

/// `WWW-Authenticate` fields, one a line.
pub fn www_authenticate(input: &[u8]) {
    fuzzing::www_authenticate(&String::from_utf8_lossy(input))
}

pub fn run(name: &str, input: &[u8]) {
    match name {
        "refresh_oauth" => refresh_oauth(input),
        "refresh_json" => refresh_json(input),
        "jwt" => jwt(input),
        "body_rule" => body_rule(input),
        "config" => config(input),
        "www_authenticate" => www_authenticate(input),
        other => panic!("unknown fuzz target {other}"),
    }
}
