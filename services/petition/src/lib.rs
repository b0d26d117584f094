//! The petition-system bridge (信访对接): petition cases (信访件) and 12345
//! hotline work orders (工单) arrive by three doors — a signed webhook, an
//! AMQP exchange, batch files — and each becomes one ledger item on the
//! statutory clock (15 days to accept, 60 to handle, one extension of at
//! most 30, review and re-review windows). Petitioners are matched to
//! registry households by ID number (never stored here in plain text) and
//! their households tagged 重点信访. Every change is published as a
//! `petition.case.*` event through the outbox (the ledger follows them) and
//! pushed back to the source system as a signed, retried webhook.
//!
//! Layers: `domain` (pure rules), `store` (all SQL), `ops` (authorization,
//! validation, transactions), the doors (`webhook`, `amqp_inbound`, `grpc`
//! for batches and handling), `events` (what it consumes from the ledger),
//! `dispatch` (answers out), `registry` (matching), `app` (wiring).
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod amqp_inbound;
pub mod app;
pub mod config;
pub mod dispatch;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod ops;
pub mod registry;
pub mod signed;
pub mod store;
pub mod webhook;

/// The schema the service's tables live in.
pub const SCHEMA: &str = "petition";
/// Fully qualified gRPC service name.
pub const SERVICE_NAME: &str = "zoufang.petition.v1.PetitionService";
/// The tag matched households get.
pub const PETITION_TAG: &str = "重点信访";

/// The `actor` of a ledger change the bridge's own case change caused
/// (退单, 答复, 不予受理 …): the ledger following the case, not a new answer
/// to it.
pub const LEDGER_FOLLOWING_PETITION: &str = "petition";

/// The events the bridge consumes: ledger items resolved (the case is
/// answered 支持) or closed with an explanation (解释).
pub fn inputs() -> zoufang_bus::consumer::Inputs {
    use zoufang_proto::{catalogue::issues, events::v1::IssueChanged};
    zoufang_bus::consumer::Inputs::new()
        .only::<IssueChanged>(&[issues::RESOLVED, issues::EXPLAINED])
}

#[cfg(test)]
mod tests {
    use zoufang_proto::catalogue::issues;

    #[test]
    fn the_bridge_binds_resolved_and_explained_items() {
        assert_eq!(
            super::inputs().keys(),
            [issues::RESOLVED, issues::EXPLAINED]
        );
    }
}
