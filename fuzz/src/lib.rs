//! The fuzz targets' bodies: the very file the end-to-end crate's
//! regression test uses (`zoufang_e2e::fuzz_bodies`), compiled here by path
//! so the fuzz build needs only the shared crates, the gateway and the contracts,
//! not every service.
#![forbid(unsafe_code)]

#[path = "../../tests/fuzz_bodies.rs"]
pub mod bodies;
