//! What every Zoufang process needs first: configuration, the error type
//! and its mapping to gRPC, PostgreSQL, telemetry, metrics, auth (JWT,
//! region scopes in the claims, revoked sessions), personal-data protection,
//! the clock and outbound HTTP to callers' URLs. It depends on no other
//! Zoufang crate but the protos.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod fields;
pub mod metrics;
pub mod outbound;
pub mod pii;
pub mod telemetry;

pub use error::{ServiceError, ServiceResult};
