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
    pub const VISIT_RECORDED: &str = zoufang_proto::catalogue::registry::VISIT_RECORDED;
    /// A supervisor's callback outcome.
    pub const CALLBACK_COMPLETED: &str = zoufang_proto::catalogue::supervision::CALLBACK_COMPLETED;
    /// Every change of a petition case or 12345 work order from the
    /// petition bridge (`petition.case.<change>`).
    pub const PETITION_CASE: &str = zoufang_proto::catalogue::petition::ANY;
    /// The prefix of those routing keys; the rest is the change.
    pub const PETITION_CASE_PREFIX: &str = zoufang_proto::catalogue::petition::PREFIX;

    /// Everything the ledger's queue binds.
    pub const ALL: [&str; 3] = [VISIT_RECORDED, CALLBACK_COMPLETED, PETITION_CASE];
}

/// The routing key of an issue event, `issues.issue.<verb>`, from the
/// catalogue; `None` for a verb the catalogue does not list.
pub fn routing_key(verb: &str) -> Option<&'static str> {
    use zoufang_proto::catalogue::issues::{ALL, PREFIX};
    ALL.iter()
        .copied()
        .find(|key| key.strip_prefix(PREFIX) == Some(verb))
}

#[cfg(test)]
mod tests {
    use zoufang_proto::catalogue::issues;

    use super::*;
    use crate::domain::state::Action;

    #[test]
    fn every_verb_the_ledger_publishes_is_in_the_catalogue() {
        let sweeps = ["overdue", "due_soon", "sign_overdue"];
        let actions = Action::ALL.map(Action::event_verb);
        for verb in ["created"].iter().chain(&sweeps).chain(&actions) {
            let key = routing_key(verb).unwrap_or_else(|| panic!("no key for {verb}"));
            assert_eq!(key, format!("{}{verb}", issues::PREFIX));
        }
        assert_eq!(routing_key("resolved"), Some(issues::RESOLVED));
        assert_eq!(routing_key("changed"), None);
        assert_eq!(routing_key(""), None);
    }
}
