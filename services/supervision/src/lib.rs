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
    pub const ISSUE_RESOLVED: &str = "issues.issue.resolved";
    /// A ledger item was closed with an explanation.
    pub const ISSUE_EXPLAINED: &str = "issues.issue.explained";
    /// A ledger item passed its deadline.
    pub const ISSUE_OVERDUE: &str = "issues.issue.overdue";
    /// A visit was recorded.
    pub const VISIT_RECORDED: &str = "registry.visit.recorded";
}

/// Routing keys the service publishes.
pub mod outputs {
    /// A callback reached its outcome.
    pub const CALLBACK_COMPLETED: &str = "supervision.callback.completed";
    /// A callback closed after too many failed attempts.
    pub const CALLBACK_UNREACHABLE: &str = "supervision.callback.unreachable";
    /// A callback task was created (on a supervisor's worklist, or unassigned).
    pub const CALLBACK_ASSIGNED: &str = "supervision.callback.assigned";
    /// An open callback task passed its due time (published once per task).
    pub const CALLBACK_OVERDUE: &str = "supervision.callback.overdue";
}
