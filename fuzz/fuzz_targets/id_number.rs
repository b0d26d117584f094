//! Fuzz target `id_number`: see `zoufang_fuzz::bodies::id_number` (tests/fuzz_bodies.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zoufang_fuzz::bodies::id_number(data));
