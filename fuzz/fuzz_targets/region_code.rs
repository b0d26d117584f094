//! Fuzz target `region_code`: see `zoufang_fuzz::bodies::region_code` (tests/fuzz_bodies.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zoufang_fuzz::bodies::region_code(data));
