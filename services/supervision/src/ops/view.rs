//! Proto views. The worklist is blind: a callback never shows which cadre
//! made the visit or answers for the item.
use zoufang_core::fields::to_timestamp;
use zoufang_proto::{
    events::v1::{CallbackTask, CallbackTaskChange},
    supervision::v1::{Callback, CallbackState, CallbackSubject},
};

use crate::{domain::notice, store::callbacks::CallbackRow};

/// The stored state name of a proto state.
pub fn state_name(s: CallbackState) -> &'static str {
    match s {
        CallbackState::Open | CallbackState::Unspecified => "open",
        CallbackState::Done => "done",
        CallbackState::Unreachable => "unreachable",
    }
}

fn state_proto(s: &str) -> i32 {
    match s {
        "open" => CallbackState::Open as i32,
        "done" => CallbackState::Done as i32,
        "unreachable" => CallbackState::Unreachable as i32,
        _ => 0,
    }
}

/// The proto view of a callback (without the cadres: blind verification).
pub fn callback(c: &CallbackRow) -> Callback {
    Callback {
        callback_id: c.callback_id.to_string(),
        subject: i32::from(c.subject),
        issue_id: c.issue_id.map(|u| u.to_string()).unwrap_or_default(),
        visit_id: c.visit_id.map(|u| u.to_string()).unwrap_or_default(),
        household_id: c.household_id.map(|u| u.to_string()).unwrap_or_default(),
        region_code: c.region_code.clone(),
        supervisor_id: c.supervisor_id.clone(),
        state: state_proto(&c.state),
        due_at: Some(to_timestamp(c.due_at)),
        attempts: c.attempts,
        summary: c.summary.clone(),
        reached: c.reached,
        visit_confirmed: c.visit_confirmed,
        fix_confirmed: c.fix_confirmed,
        satisfaction: i32::from(c.satisfaction),
        comment: c.comment.clone(),
        created_at: Some(to_timestamp(c.created_at)),
        completed_at: c.completed_at.map(to_timestamp),
        phone: String::new(),
    }
}

/// What a task event announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskChange {
    /// The task was created (`supervision.callback.assigned`).
    Assigned,
    /// The open task passed its due time (`supervision.callback.overdue`).
    Overdue,
}

impl TaskChange {
    /// The `change` field of the event, which names its routing key.
    pub fn proto(self) -> CallbackTaskChange {
        match self {
            Self::Assigned => CallbackTaskChange::Assigned,
            Self::Overdue => CallbackTaskChange::Overdue,
        }
    }
}

/// The `subject` field of a task event: `issue` or `visit`.
pub fn subject_name(subject: i16) -> &'static str {
    match CallbackSubject::try_from(i32::from(subject)) {
        Ok(CallbackSubject::Issue) => "issue",
        Ok(CallbackSubject::Visit) => "visit",
        _ => "",
    }
}

/// The task event for notifications. It names no resident and no cadre: the
/// task, where, for whom, by when, and its summary with long numbers masked.
pub fn task_event(c: &CallbackRow, change: TaskChange) -> CallbackTask {
    CallbackTask {
        callback_id: c.callback_id.to_string(),
        change: change.proto().into(),
        region_code: c.region_code.clone(),
        supervisor_id: c.supervisor_id.clone(),
        due_at: Some(to_timestamp(c.due_at)),
        subject: subject_name(c.subject).to_owned(),
        summary: notice::masked_numbers(&c.summary),
        campaign_id: c.campaign_id.map(|u| u.to_string()).unwrap_or_default(),
        region_name: c.region_name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;

    fn row() -> CallbackRow {
        CallbackRow {
            county: "430426".into(),
            callback_id: Uuid::from_u128(7),
            subject: CallbackSubject::Issue as i16,
            issue_id: Some(Uuid::from_u128(8)),
            visit_id: None,
            household_id: Some(Uuid::from_u128(9)),
            region_code: "430426104201".into(),
            region_name: "白鹤铺镇长塘村".into(),
            campaign_id: Some(Uuid::from_u128(10)),
            supervisor_id: "sup-town".into(),
            state: "open".into(),
            due_at: Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
            attempts: 0,
            max_attempts: 3,
            summary: "道路：村口路坏了，联系13812345678｜处理：已修".into(),
            policy_version: 1,
            cadre_ids: vec!["cadre-1".into()],
            reached: false,
            visit_confirmed: false,
            fix_confirmed: false,
            satisfaction: 0,
            comment: String::new(),
            recorded_member_count: None,
            recorded_help_fen: None,
            recorded_visit_date: None,
            answered_member_count: None,
            answered_help_fen: None,
            answered_visit_date: None,
            backcheck_mismatches: 0,
            created_at: Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap(),
            completed_at: None,
        }
    }

    #[test]
    fn task_event_carries_the_task_not_the_people() {
        let e = task_event(&row(), TaskChange::Assigned);
        assert_eq!(e.callback_id, Uuid::from_u128(7).to_string());
        assert_eq!(e.change(), CallbackTaskChange::Assigned);
        assert_eq!(e.subject, "issue");
        assert_eq!(e.supervisor_id, "sup-town");
        assert_eq!(e.region_code, "430426104201");
        assert_eq!(e.region_name, "白鹤铺镇长塘村", "the place by name");
        assert_eq!(e.campaign_id, Uuid::from_u128(10).to_string());
        assert_eq!(e.due_at.unwrap().seconds, row().due_at.timestamp());
        assert_eq!(e.summary, "道路：村口路坏了，联系***********｜处理：已修");
        let all = format!("{e:?}");
        assert!(!all.contains("cadre-1"), "blind: no cadre");
        assert!(
            !all.contains(&Uuid::from_u128(9).to_string()),
            "no household"
        );
    }

    #[test]
    fn unassigned_visit_task_overdue() {
        let mut r = row();
        r.subject = CallbackSubject::Visit as i16;
        r.supervisor_id = String::new();
        r.campaign_id = None;
        let e = task_event(&r, TaskChange::Overdue);
        assert_eq!(
            (e.change(), e.subject.as_str()),
            (CallbackTaskChange::Overdue, "visit")
        );
        assert_eq!((e.supervisor_id.as_str(), e.campaign_id.as_str()), ("", ""));
        use zoufang_proto::catalogue::{Event as _, supervision};
        assert_eq!(e.routing_key(), Some(supervision::CALLBACK_OVERDUE));
        assert_eq!(
            task_event(&r, TaskChange::Assigned).routing_key(),
            Some(supervision::CALLBACK_ASSIGNED)
        );
        assert_eq!(subject_name(0), "");
    }
}
