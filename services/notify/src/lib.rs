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
    pub const ISSUE_PREFIX: &str = zoufang_proto::catalogue::issues::PREFIX;
    /// The ledger events that concern a person.
    pub const ISSUE_KEYS: &[&str] = &[
        zoufang_proto::catalogue::issues::CREATED,
        zoufang_proto::catalogue::issues::ASSIGNED,
        zoufang_proto::catalogue::issues::REOPENED,
        zoufang_proto::catalogue::issues::DUE_SOON,
        zoufang_proto::catalogue::issues::OVERDUE,
        zoufang_proto::catalogue::issues::RESOLVED,
        zoufang_proto::catalogue::issues::EXPLAINED,
        zoufang_proto::catalogue::issues::VERIFIED,
        zoufang_proto::catalogue::issues::MERGED,
    ];
    /// A callback task reached a supervisor's worklist.
    pub const CALLBACK_ASSIGNED: &str = zoufang_proto::catalogue::supervision::CALLBACK_ASSIGNED;
    /// A callback task passed its due time.
    pub const CALLBACK_OVERDUE: &str = zoufang_proto::catalogue::supervision::CALLBACK_OVERDUE;
    /// A visit was flagged disputed.
    pub const VISIT_DISPUTED: &str = zoufang_proto::catalogue::registry::VISIT_DISPUTED;
    /// A petition case or hotline work order arrived.
    pub const PETITION_RECEIVED: &str = zoufang_proto::catalogue::petition::RECEIVED;

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
