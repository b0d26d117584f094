//! Supervision callbacks (督查回访): which resolved items and which visits get
//! a callback (deterministic sampling by policy), the supervisors' worklist
//! (blind: it never shows which cadre made a sampled visit), attempts and
//! outcomes, and the `supervision.callback.completed` event through which the
//! ledger reopens or verifies items and the registry flags denied visits.
//! Notifications follow the tasks themselves: `supervision.callback.assigned`
//! when a task lands on a worklist, `supervision.callback.overdue` once when
//! an open task passes its due time (the sweeper).
//!
//! Layers: `domain` (pure rules), `store` (all SQL), `ops` (authorization,
//! validation, transactions), `events` (what it consumes), `grpc`, `app`.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod ops;
pub mod store;

/// The schema the service's tables live in.
pub const SCHEMA: &str = "supervision";
/// Fully qualified gRPC service name.
pub const SERVICE_NAME: &str = "zoufang.supervision.v1.SupervisionService";

/// The events the service consumes: resolved, explained and overdue ledger
/// items (callbacks and the cadres' timeliness) and recorded visits.
pub fn inputs() -> zoufang_bus::consumer::Inputs {
    use zoufang_proto::{
        catalogue::issues,
        events::v1::{IssueChanged, VisitRecorded},
    };
    zoufang_bus::consumer::Inputs::new()
        .all::<VisitRecorded>()
        .only::<IssueChanged>(&[issues::RESOLVED, issues::EXPLAINED, issues::OVERDUE])
}

/// Routing keys the service publishes under a key it picks (the task
/// events name theirs by their change).
pub mod outputs {
    /// A callback reached its outcome.
    pub const CALLBACK_COMPLETED: &str = zoufang_proto::catalogue::supervision::CALLBACK_COMPLETED;
    /// A callback closed after too many failed attempts.
    pub const CALLBACK_UNREACHABLE: &str =
        zoufang_proto::catalogue::supervision::CALLBACK_UNREACHABLE;
}

#[cfg(test)]
mod tests {
    use zoufang_proto::catalogue::{issues, registry};

    #[test]
    fn supervision_binds_visits_and_ended_or_overdue_items() {
        assert_eq!(
            super::inputs().keys(),
            [
                registry::VISIT_RECORDED,
                issues::RESOLVED,
                issues::EXPLAINED,
                issues::OVERDUE
            ]
        );
    }
}
