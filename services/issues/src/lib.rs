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

/// Routing keys the ledger consumes.
pub mod inputs {
    /// A visit with its raised items.
    pub const VISIT_RECORDED: &str = "registry.visit.recorded";
    /// A supervisor's callback outcome.
    pub const CALLBACK_COMPLETED: &str = "supervision.callback.completed";
    /// Every change of a petition case or 12345 work order from the
    /// petition bridge (`petition.case.<change>`).
    pub const PETITION_CASE: &str = "petition.case.*";
    /// The prefix of those routing keys; the rest is the change.
    pub const PETITION_CASE_PREFIX: &str = "petition.case.";

    /// Everything the ledger's queue binds.
    pub const ALL: [&str; 3] = [VISIT_RECORDED, CALLBACK_COMPLETED, PETITION_CASE];
}

/// The routing key of an issue event: `issues.issue.<verb>`.
pub fn routing_key(verb: &str) -> &'static str {
    match verb {
        "created" => "issues.issue.created",
        "assigned" => "issues.issue.assigned",
        "started" => "issues.issue.started",
        "resolved" => "issues.issue.resolved",
        "explained" => "issues.issue.explained",
        "escalated" => "issues.issue.escalated",
        "signed" => "issues.issue.signed",
        "returned" => "issues.issue.returned",
        "supervised" => "issues.issue.supervised",
        "verified" => "issues.issue.verified",
        "reopened" => "issues.issue.reopened",
        "merged" => "issues.issue.merged",
        "due_soon" => "issues.issue.due_soon",
        "overdue" => "issues.issue.overdue",
        "sign_overdue" => "issues.issue.sign_overdue",
        _ => "issues.issue.changed",
    }
}
