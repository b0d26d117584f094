//! The gateway (网关): the HTTP+JSON door for township offices, browsers,
//! petition and hotline systems. Sign-in with accounts and sessions; every
//! unary RPC of the services as `POST /v1/<service>/<Method>` with proto3
//! JSON (transcoded through the contracts' descriptors, so it can never
//! drift from them); imports, exports and campaign summaries; an OpenAPI
//! document generated from the same route table that serves requests.
//!
//! Layers: `accounts` (sign-in, sessions, lock-out; SQL in `accounts::store`),
//! `caller` (who is asking), `rpc` (the generic transcoder), `endpoints`
//! (the route table and its OpenAPI document), `error` (one JSON error
//! shape), `import`, `export`, `report`, `app`.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod accounts;
pub mod app;
pub mod caller;
pub mod client_addr;
pub mod config;
pub mod endpoints;
pub mod error;
pub mod exchange;
pub mod export;
pub mod import;
pub mod inbox_stream;
pub mod report;
pub mod rpc;
pub mod state;

/// The schema the gateway's tables live in.
pub const SCHEMA: &str = "gateway";
