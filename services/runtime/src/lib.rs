//! The shared runtime of every Zoufang service: configuration, telemetry,
//! PostgreSQL, the transactional outbox and its relay, the AMQP topology,
//! idempotent consumers (inbox), auth, personal-data protection, the error
//! mapping and gRPC server start. It depends on no service.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod auth;
pub mod bus;
pub mod clock;
pub mod config;
pub mod consumer;
pub mod db;
pub mod domain;
pub mod error;
pub mod fields;
pub mod jobs;
pub mod metrics;
pub mod outbound;
pub mod outbox;
pub mod pii;
pub mod retention;
pub mod retry;
#[cfg(test)]
mod scratch;
pub mod server;
pub mod signing;
#[cfg(feature = "tabular")]
pub mod tabular;
pub mod telemetry;

pub use error::{ServiceError, ServiceResult};
