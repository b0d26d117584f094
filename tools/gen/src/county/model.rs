//! The model of what the services end up holding after the demo campaign:
//! supervision's sampling policy, which visits and items are called back,
//! and each item's state in the ledger before and after its callback.
use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;
use zoufang_proto::{
    common::v1::ItemKind, issues::v1::IssueState, supervision::v1::SamplingPolicy,
};

use super::{
    County,
    campaign::{Answer, Fate, Item, Visit},
};

/// Supervision's sampling policy for the campaign: every urgent, dispute and
/// petition item resolved or explained (none of the others), and the first
/// two visits of each cadre and week — so the callbacks are known in advance.
pub const MIN_VISITS_PER_CADRE: u32 = 2;
/// Attempts before a callback closes as unreachable.
pub const MAX_ATTEMPTS: u32 = 3;

pub fn policy() -> SamplingPolicy {
    SamplingPolicy {
        item_share_bp: 0,
        visit_share_bp: 0,
        min_visits_per_cadre: MIN_VISITS_PER_CADRE,
        high_risk_threshold: 60,
        high_risk_visit_share_bp: 0,
        due_days: 7,
        max_attempts: MAX_ATTEMPTS,
    }
}

/// Supervision samples visits per first cadre and Monday-week of the start (UTC date).
pub fn group_key(v: &Visit, county: &County) -> (Uuid, NaiveDate) {
    let date = v.start.date_naive();
    let monday = date - chrono::Duration::days(i64::from(date.weekday().num_days_from_monday()));
    (county.cadres[v.cadres[0]].id, monday)
}

pub fn visit_groups(visits: &[Visit], county: &County) -> HashMap<(Uuid, NaiveDate), usize> {
    let mut groups = HashMap::new();
    for v in visits {
        *groups.entry(group_key(v, county)).or_insert(0) += 1;
    }
    groups
}

/// An item as the ledger holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ledgered {
    pub state: IssueState,
    /// 0 none, 1 on the spot, 2 time-limited, 3 escalated, 4 explained.
    pub disposition: i32,
    pub in_time: Option<bool>,
    pub ever_escalated: bool,
    pub reopened: bool,
}

pub fn after_ledger(item: &Item) -> Ledgered {
    let l = |state, disposition, in_time, ever_escalated| Ledgered {
        state,
        disposition,
        in_time,
        ever_escalated,
        reopened: false,
    };
    match item.fate {
        Fate::OnSpot => l(IssueState::Resolved, 1, Some(true), false),
        Fate::Open => l(IssueState::Open, 0, None, false),
        Fate::InProgress => l(IssueState::InProgress, 2, None, false),
        Fate::TimeLimited => l(IssueState::Resolved, 2, Some(true), false),
        Fate::Explain => l(IssueState::Explained, 4, Some(true), false),
        Fate::Escalate => l(IssueState::Escalated, 3, None, true),
        Fate::EscalateResolved => l(IssueState::Resolved, 3, Some(true), true),
    }
}

/// Supervision calls back every urgent, dispute and petition item once it is
/// resolved or explained (the policy samples none of the others).
pub fn gets_callback(item: &Item, l: &Ledgered) -> bool {
    matches!(l.state, IssueState::Resolved | IssueState::Explained)
        && (item.urgent || matches!(item.kind, ItemKind::Dispute | ItemKind::Petition))
}

pub fn after_callback(item: &Item, mut l: Ledgered) -> Ledgered {
    if !gets_callback(item, &l) {
        return l;
    }
    match item.answer {
        Answer::Satisfied | Answer::Basically => l.state = IssueState::Verified,
        Answer::Unsatisfied => {
            l.state = IssueState::Reopened;
            l.in_time = None;
            l.reopened = true;
        }
        Answer::LeaveOpen | Answer::Unreachable => {}
    }
    l
}

pub fn open_state(s: IssueState) -> bool {
    matches!(
        s,
        IssueState::Open
            | IssueState::Assigned
            | IssueState::InProgress
            | IssueState::Escalated
            | IssueState::Reopened
    )
}
