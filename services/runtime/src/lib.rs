//! The shared crates under the paths services used before they were split
//! (`zoufang_runtime::outbox::…` and so on): configuration, errors,
//! PostgreSQL, telemetry, auth and PII come from `zoufang-core`; domain value
//! types from `zoufang-types`; the bus, outbox, consumers and jobs from
//! `zoufang-bus`; serving from `zoufang-service`; spreadsheets (feature
//! `tabular`) from `zoufang-tabular`. New code names those crates directly.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub use zoufang_bus as bus;
pub use zoufang_bus::{consumer, jobs, outbox, retention, retry, signing};
pub use zoufang_core::{clock, config, db, error, fields, metrics, outbound, pii, telemetry};
pub use zoufang_service::server;
#[cfg(feature = "tabular")]
pub use zoufang_tabular as tabular;
pub use zoufang_types as domain;

pub use error::{ServiceError, ServiceResult};

/// `zoufang_core::auth`, with the revocation feed of `zoufang-bus` under
/// `auth::revocation` as before.
pub mod auth {
    pub use zoufang_core::auth::*;

    /// Revoked sessions (`zoufang_core`) and the feed that fills them
    /// (`zoufang_bus`).
    pub mod revocation {
        pub use zoufang_bus::revocation::*;
        pub use zoufang_core::auth::revocation::*;
    }
}
