//! Notifications (通知): the events that concern a person become inbox
//! messages by rule (role and region), rendered from editable Chinese
//! templates, and deliveries on SMS, WeCom and DingTalk group robots and
//! signed webhooks, retried with back-off, de-duplicated per fact, held in
//! SMS quiet hours, and summed up in a daily digest.
//!
//! Layers: `domain` (pure rules), `store` (all SQL), `ops` (authorization,
//! validation, transactions), `channels` (wire formats and the HTTP sender),
//! `events` (what it consumes), `dispatch` (the delivery, escalation and
//! digest loop), `listen` (new-inbox signals), `grpc`, `app`.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod app;
pub mod channels;
pub mod config;
pub mod dispatch;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod listen;
pub mod ops;
pub mod store;

/// The schema the service's tables live in.
pub const SCHEMA: &str = "notify";
/// Fully qualified gRPC service name.
pub const SERVICE_NAME: &str = "zoufang.notify.v1.NotifyService";

/// Routing keys the service consumes.
pub mod inputs {
    /// Every ledger event starts with this; the rest is the change.
    pub const ISSUE_PREFIX: &str = "issues.issue.";
    /// The ledger events that concern a person.
    pub const ISSUE_KEYS: &[&str] = &[
        "issues.issue.created",
        "issues.issue.assigned",
        "issues.issue.reopened",
        "issues.issue.due_soon",
        "issues.issue.overdue",
        "issues.issue.resolved",
        "issues.issue.explained",
        "issues.issue.verified",
        "issues.issue.merged",
    ];
    /// A callback task reached a supervisor's worklist.
    pub const CALLBACK_ASSIGNED: &str = "supervision.callback.assigned";
    /// A callback task passed its due time.
    pub const CALLBACK_OVERDUE: &str = "supervision.callback.overdue";
    /// A visit was flagged disputed.
    pub const VISIT_DISPUTED: &str = "registry.visit.disputed";
    /// A petition case or hotline work order arrived.
    pub const PETITION_RECEIVED: &str = "petition.case.received";

    /// Every binding of the service's queue.
    pub fn all() -> Vec<&'static str> {
        let mut keys = ISSUE_KEYS.to_vec();
        keys.extend([
            CALLBACK_ASSIGNED,
            CALLBACK_OVERDUE,
            VISIT_DISPUTED,
            PETITION_RECEIVED,
        ]);
        keys
    }
}
