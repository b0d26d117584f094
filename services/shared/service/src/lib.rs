//! Serving a Zoufang service, on `zoufang-core` and `zoufang-bus`: the gRPC
//! server (health, reflection, per-request spans, RPC metrics), the admin
//! HTTP endpoints, the background tasks every service runs (outbox relay,
//! retention sweep, revocation feed, consumers) and graceful shutdown; the
//! binary's `main` ([`service::main`]) and the gRPC trait implementation
//! ([`rpcs!`]) every service shares.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod rpc;
pub mod server;
pub mod service;

pub use service::{Service, main};

/// What [`rpcs!`] expands to, not for direct use.
#[doc(hidden)]
pub mod __private {
    pub use zoufang_core::auth::{bearer_token, claims};
}
