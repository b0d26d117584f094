//! Supervision callbacks (督查回访): which resolved items and which visits get
//! a callback, the fabrication signals computed from the records themselves,
//! and (to come) the callback worklist, attempts, outcomes and assessments.
//!
//! This first part holds the pure rules; the service around them is issue 4's
//! remaining work.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod domain;
