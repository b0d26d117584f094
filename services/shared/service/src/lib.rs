//! Serving a Zoufang service, on `zoufang-core` and `zoufang-bus`: the gRPC
//! server (health, reflection, per-request spans, RPC metrics), the admin
//! HTTP endpoints, the background tasks every service runs (outbox relay,
//! retention sweep, revocation feed, consumers) and graceful shutdown.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod server;
