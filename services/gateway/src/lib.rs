//! The gateway (网关): the HTTP+JSON door for township offices, browsers,
//! petition and hotline systems. Sign-in with accounts and sessions; every
//! unary RPC of the services as `POST /v1/<service>/<Method>` with proto3
//! JSON (transcoded through the contracts' descriptors, so it can never
//! drift from them); imports, exports and campaign summaries; an OpenAPI
//! document generated from the same route table that serves requests.
//!
//! Two halves with one boundary: `door`, the front door (sign-in,
//! sessions and tokens, the JSON↔gRPC transcoder, the route table and its
//! OpenAPI document, server-sent events), and `desk` (imports, exports,
//! campaign summaries), which reaches the door only through the small API
//! the door documents for it. `app` wires the two; `config` reads the
//! settings of both. `console` serves the web console (管理端) that
//! `build.rs` builds from `web/` and embeds, for every path no route takes.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod app;
pub mod config;
pub mod console;
pub mod desk;
pub mod door;

/// The schema the gateway's tables live in.
pub const SCHEMA: &str = "gateway";
