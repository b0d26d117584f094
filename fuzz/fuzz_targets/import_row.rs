//! Fuzz target `import_row`: see `zoufang_fuzz::bodies::import_row` (tests/fuzz_bodies.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zoufang_fuzz::bodies::import_row(data));
