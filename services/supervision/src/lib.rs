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

/// Routing keys the service consumes.
pub mod inputs {
    /// A ledger item was resolved.
    pub const ISSUE_RESOLVED: &str = zoufang_proto::catalogue::issues::RESOLVED;
    /// A ledger item was closed with an explanation.
    pub const ISSUE_EXPLAINED: &str = zoufang_proto::catalogue::issues::EXPLAINED;
    /// A ledger item passed its deadline.
    pub const ISSUE_OVERDUE: &str = zoufang_proto::catalogue::issues::OVERDUE;
    /// A visit was recorded.
    pub const VISIT_RECORDED: &str = zoufang_proto::catalogue::registry::VISIT_RECORDED;
}

/// Routing keys the service publishes.
pub mod outputs {
    /// A callback reached its outcome.
    pub const CALLBACK_COMPLETED: &str = zoufang_proto::catalogue::supervision::CALLBACK_COMPLETED;
    /// A callback closed after too many failed attempts.
    pub const CALLBACK_UNREACHABLE: &str =
        zoufang_proto::catalogue::supervision::CALLBACK_UNREACHABLE;
    /// A callback task was created (on a supervisor's worklist, or unassigned).
    pub const CALLBACK_ASSIGNED: &str = zoufang_proto::catalogue::supervision::CALLBACK_ASSIGNED;
    /// An open callback task passed its due time (published once per task).
    pub const CALLBACK_OVERDUE: &str = zoufang_proto::catalogue::supervision::CALLBACK_OVERDUE;
}
