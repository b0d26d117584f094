//! Fuzz target `event_decode`: see `zoufang_fuzz::bodies::event_decode` (tests/fuzz_bodies.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zoufang_fuzz::bodies::event_decode(data));
