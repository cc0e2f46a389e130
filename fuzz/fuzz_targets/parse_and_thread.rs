//! The email parsing and threading entry point on arbitrary bytes: it must never panic.
//! Run with `cargo fuzz run parse_and_thread fuzz/seeds` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: {
        // libfuzzer-sys aborts in its panic hook, before unwinding; Rapport deliberately
        // catches panics inside the MIME library (a malformed message is unreadable, not
        // fatal). With the default hook back, those unwind into that catch, and any
        // other panic still reaches libfuzzer-sys's catch_unwind, which aborts: a crash.
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| {
        let _ = rapport_mail::parse::message_id(data);
        let parsed = rapport_mail::parse::parse(data);
        let _ = rapport_mail::ingest::thread_keys(&parsed);
        let _ = rapport_mail::parse::strip_quoted(&parsed.text);
    }
);
