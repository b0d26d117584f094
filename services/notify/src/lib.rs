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

/// The events the service consumes: the ledger changes that concern a
/// person, callback tasks, disputed visits and received petition cases.
pub fn inputs() -> zoufang_bus::consumer::Inputs {
    use zoufang_proto::{
        catalogue::{issues, petition},
        events::v1::{CallbackTask, IssueChanged, PetitionCaseChanged, VisitDisputed},
    };
    zoufang_bus::consumer::Inputs::new()
        .only::<IssueChanged>(&[
            issues::CREATED,
            issues::ASSIGNED,
            issues::REOPENED,
            issues::DUE_SOON,
            issues::OVERDUE,
            issues::RESOLVED,
            issues::EXPLAINED,
            issues::VERIFIED,
            issues::MERGED,
        ])
        .all::<CallbackTask>()
        .all::<VisitDisputed>()
        .only::<PetitionCaseChanged>(&[petition::RECEIVED])
}

#[cfg(test)]
mod tests {
    use zoufang_proto::catalogue::{issues, petition, registry, supervision};

    #[test]
    fn notify_binds_what_concerns_a_person() {
        let keys = super::inputs().keys();
        assert_eq!(keys.len(), 13);
        assert_eq!(keys[0], issues::CREATED);
        assert!(!keys.contains(&issues::STARTED));
        assert_eq!(
            keys[9..],
            [
                supervision::CALLBACK_ASSIGNED,
                supervision::CALLBACK_OVERDUE,
                registry::VISIT_DISPUTED,
                petition::RECEIVED
            ]
        );
    }
}
