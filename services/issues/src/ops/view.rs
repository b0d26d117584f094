//! Proto views of stored issues, and the event payload of a change.
use zoufang_core::fields::to_timestamp;
use zoufang_proto::{
    events::v1::{IssueChange, IssueChanged},
    issues::v1::{Issue, TimelineEntry},
};

use crate::{
    domain::state::{Action, State as IssueState},
    store::{issues::IssueRow, timeline::EntryRow},
};

fn state_proto(s: &str) -> i32 {
    IssueState::parse(s).map_or(0, |s| s.to_proto() as i32)
}

/// The proto view of an issue.
pub fn issue(r: &IssueRow) -> Issue {
    Issue {
        issue_id: r.issue_id.to_string(),
        source: i32::from(r.source),
        visit_id: r.visit_id.map(|v| v.to_string()).unwrap_or_default(),
        item_no: r.item_no,
        campaign_id: r.campaign_id.map(|v| v.to_string()).unwrap_or_default(),
        household_id: r.household_id.map(|v| v.to_string()).unwrap_or_default(),
        region_code: r.region_code.clone(),
        kind: i32::from(r.kind),
        category: r.category.clone(),
        description: r.description.clone(),
        households_involved: r.households_involved,
        priority: i32::from(r.priority),
        disposition: i32::from(r.disposition),
        state: state_proto(&r.state),
        responsible_cadre_id: r.responsible_cadre_id.clone(),
        department: r.department.clone(),
        assisting_departments: r.assisting_departments.clone(),
        deadline: r.deadline.map(to_timestamp),
        resolution: r.resolution.clone(),
        explanation: r.explanation.clone(),
        resident_acknowledged: r.resident_acknowledged,
        reopen_count: r.reopen_count,
        rectification_round: r.rectification_round,
        escalation_level: r.escalation_level,
        merged_into: r.merged_into.map(|v| v.to_string()).unwrap_or_default(),
        concerned_cadre_ids: r.concerned_cadre_ids.clone(),
        supervised: r.supervised,
        sign_deadline: r.sign_deadline.map(to_timestamp),
        signed_at: r.signed_at.map(to_timestamp),
        version: r.version,
        created_at: Some(to_timestamp(r.created_at)),
        updated_at: Some(to_timestamp(r.updated_at)),
        resolved_at: r.resolved_at.map(to_timestamp),
        region_name: r.region_name.clone(),
        responsible_cadre_name: r.responsible_cadre_name.clone(),
    }
}

/// A timeline entry's proto view.
pub fn entry(e: &EntryRow) -> TimelineEntry {
    TimelineEntry {
        at: Some(to_timestamp(e.at)),
        actor: e.actor.clone(),
        action: e.action.clone(),
        from_state: state_proto(&e.from_state),
        to_state: state_proto(&e.to_state),
        note: e.note.clone(),
        related_issue_id: e
            .related_issue_id
            .map(|v| v.to_string())
            .unwrap_or_default(),
    }
}

fn priority_name(p: i16) -> &'static str {
    match p {
        3 => "urgent",
        2 => "high",
        _ => "normal",
    }
}

fn source_name(s: i16) -> &'static str {
    match s {
        1 => "visit",
        2 => "reception",
        3 => "hotline",
        4 => "petition",
        _ => "unknown",
    }
}

/// The change the event of `action` announces (`issues.issue.<verb>`).
pub fn change_of(action: Action) -> IssueChange {
    match action {
        Action::Assign => IssueChange::Assigned,
        Action::Start => IssueChange::Started,
        Action::Resolve => IssueChange::Resolved,
        Action::Explain => IssueChange::Explained,
        Action::Escalate => IssueChange::Escalated,
        Action::Sign => IssueChange::Signed,
        Action::Return => IssueChange::Returned,
        Action::Supervise => IssueChange::Supervised,
        Action::Verify => IssueChange::Verified,
        Action::Reopen => IssueChange::Reopened,
        Action::Merge => IssueChange::Merged,
    }
}

/// The event payload of a change, carrying what a notifier needs.
pub fn event(r: &IssueRow, change: IssueChange, actor: &str, note: &str) -> IssueChanged {
    IssueChanged {
        issue_id: r.issue_id.to_string(),
        change: change.into(),
        region_code: r.region_code.clone(),
        state: r.state.clone(),
        kind: i32::from(r.kind),
        category: r.category.clone(),
        priority: priority_name(r.priority).to_owned(),
        responsible_cadre_id: r.responsible_cadre_id.clone(),
        department: r.department.clone(),
        deadline: r.deadline.map(to_timestamp),
        campaign_id: r.campaign_id.map(|v| v.to_string()).unwrap_or_default(),
        household_id: r.household_id.map(|v| v.to_string()).unwrap_or_default(),
        visit_id: r.visit_id.map(|v| v.to_string()).unwrap_or_default(),
        actor: actor.to_owned(),
        note: note.to_owned(),
        reopen_count: r.reopen_count,
        urgent: r.priority == 3,
        merged_into: r.merged_into.map(|v| v.to_string()).unwrap_or_default(),
        source: source_name(r.source).to_owned(),
        description: r.description.clone(),
        region_name: r.region_name.clone(),
        responsible_cadre_name: r.responsible_cadre_name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use zoufang_proto::catalogue::issues;

    use super::*;

    #[test]
    fn each_action_announces_its_verb() {
        let verbs = "assigned started resolved explained escalated signed returned supervised \
                     verified reopened merged";
        for (action, verb) in Action::ALL.into_iter().zip(verbs.split_whitespace()) {
            let key = issues::key_of(change_of(action)).expect("a key");
            assert_eq!(key, format!("{}{verb}", issues::PREFIX), "{action}");
        }
    }
}
