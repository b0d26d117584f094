//! The visit registry (走访登记): everything DESIGN.md §2 gives the registry
//! — regions and work zones, households with their personal data protected,
//! cadres, campaigns with quotas, responsibility assignments (包保), visits
//! with the items raised, and progress against quotas.
//!
//! Layers: `domain` (pure rules), `store` (all SQL), `ops` (authorization,
//! validation and transactions), `grpc` (a thin mapping), `app` (wiring).
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod ops;
pub mod store;
pub mod tags;

/// The schema the registry's tables live in.
pub const SCHEMA: &str = "registry";
/// Fully qualified gRPC service name.
pub const SERVICE_NAME: &str = "zoufang.registry.v1.RegistryService";
