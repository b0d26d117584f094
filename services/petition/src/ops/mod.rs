//! Operations: authorization, validation and the transactions that change
//! cases, shared by the three inbound doors, the gRPC API and the ledger's
//! events.
pub mod import;
pub mod intake;
pub mod query;
pub mod record;
pub mod settle;
pub mod sources;
pub mod steps;
pub mod view;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use tokio::sync::Notify;
use uuid::Uuid;
use zoufang_bus::retry::RetryPolicy;
use zoufang_core::{auth::roles, clock::Clock, outbound::OutboundPolicy, pii::PiiCipher};

use crate::registry::Registry;

/// What every operation needs.
#[derive(Debug, Clone)]
pub struct State {
    pub pool: sqlx::PgPool,
    pub pii: Arc<PiiCipher>,
    /// The cases' clock: statutory periods and every change's time (tests
    /// move it through the periods).
    pub clock: Clock,
    /// Real time, for what the outside world checks: a request's freshness,
    /// what lies in the future of an incoming case, when an answer may be
    /// sent and the time it is signed with. The system clock even where
    /// tests move `clock`.
    pub wall: Clock,
    pub registry: Registry,
    pub settings: Arc<Settings>,
    /// Pushes answers back to source systems (to checked addresses only).
    pub http: reqwest::Client,
    /// Which callback URLs may be called.
    pub outbound: OutboundPolicy,
    /// Wakes the dispatcher when an answer is queued.
    pub wake: Arc<Notify>,
    /// The accounts with a batch import running (one each).
    pub imports: Arc<import::Running>,
}

/// When a change is made: on the cases' clock, and on the wall clock the
/// answers are delivered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// The cases' time (the change's time, statutory periods).
    pub case: DateTime<Utc>,
    /// Real time (the earliest an answer is sent).
    pub wall: DateTime<Utc>,
}

impl State {
    /// Now, on both clocks.
    pub fn at(&self) -> At {
        At {
            case: self.clock.now(),
            wall: self.wall.now(),
        }
    }
}

/// Tunables from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub signature_window_secs: i64,
    pub retry: RetryPolicy,
    pub dispatch_interval: std::time::Duration,
}

/// Who handles cases: the petition bureau (信访局) and admins.
pub const HANDLERS: &[&str] = &[
    roles::PETITION_BUREAU,
    roles::COUNTY_ADMIN,
    roles::TOWNSHIP_ADMIN,
    roles::SERVICE,
];

/// Who reads cases: handlers, supervisors, and cadres (who visit the
/// petitioners' households).
pub const READERS: &[&str] = &[
    roles::PETITION_BUREAU,
    roles::COUNTY_ADMIN,
    roles::TOWNSHIP_ADMIN,
    roles::SUPERVISOR,
    roles::CADRE,
    roles::SERVICE,
];

/// Namespace of the ids derived here, so every replica and every retry
/// derives the same ones.
const NAMESPACE: Uuid = Uuid::from_u128(0x6a1f_3c2e_9b4d_4e8f_a7c5_2d0e_1f3b_5c70);

/// A case's id: one per source system and external id.
pub fn case_id(source_system: &str, external_id: &str) -> Uuid {
    Uuid::new_v5(
        &NAMESPACE,
        format!("case/{source_system}/{external_id}").as_bytes(),
    )
}

/// The ledger item a case becomes.
pub fn issue_id(case_id: Uuid) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("issue/{case_id}").as_bytes())
}

/// An answer's id: one per case, change and case version, so replays of the
/// same change queue nothing new.
pub fn reply_id(case_id: Uuid, change: &str, version: i64) -> Uuid {
    Uuid::new_v5(
        &NAMESPACE,
        format!("reply/{case_id}/{change}/{version}").as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let a = case_id("county-xinfang", "XF-1");
        assert_eq!(a, case_id("county-xinfang", "XF-1"));
        assert_ne!(a, case_id("hotline-12345", "XF-1"));
        assert_ne!(issue_id(a), a);
        assert_ne!(reply_id(a, "accepted", 2), reply_id(a, "accepted", 3));
    }
}
