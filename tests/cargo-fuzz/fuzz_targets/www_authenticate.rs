#![no_main]

#[path = "../../fuzz/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|input: &[u8]| targets::www_authenticate(input));
