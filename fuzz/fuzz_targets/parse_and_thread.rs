//! The email parsing and threading entry point on arbitrary bytes: it must never panic.
//! Run with `cargo fuzz run parse_and_thread fuzz/seeds` (seeds: the test corpus).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let parsed = rapport_mail::parse::parse(data);
    let _ = rapport_mail::ingest::thread_keys(&parsed);
    let _ = rapport_mail::parse::strip_quoted(&parsed.text);
});
