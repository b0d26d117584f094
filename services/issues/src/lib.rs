//! The issue ledger (民情台账): every problem, suggestion, dispute or petition
//! a resident raised, from the moment a cadre hears it until a supervisor
//! confirms it is fixed — with its state machine, deadlines, escalation,
//! rectification loops and an append-only timeline.
//!
//! Layers: `domain` (pure rules), `store` (all SQL), `ops` (authorization,
//! validation, transactions with their events), `events` (what the ledger
//! consumes), `grpc` (a thin mapping), `app` (wiring).
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod ops;
pub mod store;

/// The schema the ledger's tables live in.
pub const SCHEMA: &str = "issues";
/// Fully qualified gRPC service name.
pub const SERVICE_NAME: &str = "zoufang.issues.v1.IssueService";

/// The events the ledger consumes: recorded visits with their raised
/// items, supervisors' callback outcomes (completed, not unreachable), and
/// every change of a petition case or 12345 work order, and the registry's
/// cadres (its directory of assignees).
pub fn inputs() -> zoufang_bus::consumer::Inputs {
    use zoufang_proto::{
        catalogue::supervision,
        events::v1::{CadreChanged, CallbackCompleted, PetitionCaseChanged, VisitRecorded},
    };
    zoufang_bus::consumer::Inputs::new()
        .all::<VisitRecorded>()
        .only::<CallbackCompleted>(&[supervision::CALLBACK_COMPLETED])
        .all::<PetitionCaseChanged>()
        .all::<CadreChanged>()
}

#[cfg(test)]
mod tests {
    use zoufang_proto::catalogue::{petition, registry, supervision};

    #[test]
    fn the_ledger_binds_visits_completed_callbacks_every_case_change_and_cadres() {
        let keys = super::inputs().keys();
        assert_eq!(
            keys,
            [
                registry::VISIT_RECORDED,
                supervision::CALLBACK_COMPLETED,
                petition::ANY,
                registry::CADRE_ANY
            ]
        );
    }
}
