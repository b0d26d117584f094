//! Zoufang's data generator: deterministic, seeded test data for the demo
//! (`zfdemo`), the benchmarks and the end-to-end tests.
//!
//! - [`rng`]: SplitMix64 streams by seed and label or index, derived ids.
//! - [`people`]: names, valid 18-digit ID numbers, mobile phones.
//! - [`county`]: the demo county (祁东县) with townships, villages, work
//!   zones and cadres; its households; a simulated campaign (assignments,
//!   visits, raised items and their fates, callbacks, petition cases) and
//!   the model of what the services hold after it.
//! - [`province`]: a province shaped like Hunan's, made row by row from an
//!   index (never held in memory) as PostgreSQL COPY text, for the
//!   province-scale benchmark.
#![forbid(unsafe_code)]

pub mod county;
pub mod people;
pub mod province;
pub mod rng;
