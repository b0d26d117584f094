//! Notifications (通知): the events that concern a person become inbox
//! messages by rule (role and region), rendered from editable Chinese
//! templates, and deliveries on SMS, WeCom and DingTalk group robots and
//! signed webhooks, retried with back-off, de-duplicated per fact, held in
//! SMS quiet hours, and summed up in a daily digest.
//!
//! Layers: `domain` (pure rules), `store` (all SQL), `ops` (authorization,
//! validation, transactions), `channels` (wire formats and the HTTP sender),
//! `events` (what it consumes), `dispatch` (the delivery and escalation
//! loop), `grpc`, `app`.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod channels;

/// The schema the service's tables live in.
pub const SCHEMA: &str = "notify";
/// Fully qualified gRPC service name.
pub const SERVICE_NAME: &str = "zoufang.notify.v1.NotifyService";
