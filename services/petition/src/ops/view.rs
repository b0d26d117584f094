//! How a stored case is shown: to callers (masked), to the rules (its
//! clock), to other services (the event) and to its source (the answer).
use chrono::{DateTime, Utc};
use zoufang_core::fields::to_timestamp;
use zoufang_proto::{
    events::v1::PetitionCaseChanged,
    petition::v1::{self as pb},
};

use crate::{
    domain::{
        change::Change,
        clock::{self, Outcome, Stage},
    },
    store::{cases::CaseRow, replies::ReplyRow},
};

/// The stage of a stored case (unknown spellings read as received, which
/// only a hand-edited row could produce).
pub fn stage_of(row: &CaseRow) -> Stage {
    Stage::from_code(&row.stage, &row.outcome).unwrap_or(Stage::Received)
}

/// The statutory clock of a stored case.
pub fn clock_of(row: &CaseRow) -> clock::Case {
    clock::Case {
        stage: stage_of(row),
        received_at: row.received_at,
        due_at: row.due_at,
        extended: row.extended,
        answered_at: row.answered_at,
        hotline: row.hotline,
    }
}

/// Writes a clock's result into the row.
pub fn apply_clock(row: &mut CaseRow, c: &clock::Case) {
    row.stage = c.stage.code().to_owned();
    row.outcome = c
        .stage
        .outcome()
        .map(Outcome::code)
        .unwrap_or("")
        .to_owned();
    row.due_at = c.due_at;
    row.extended = c.extended;
    row.answered_at = c.answered_at;
}

fn stage_pb(s: Stage) -> pb::Stage {
    match s {
        Stage::Received => pb::Stage::Received,
        Stage::NotAccepted => pb::Stage::NotAccepted,
        Stage::Handling => pb::Stage::Handling,
        Stage::Replied(_) => pb::Stage::Replied,
        Stage::UnderReview => pb::Stage::UnderReview,
        Stage::Reviewed(_) => pb::Stage::Reviewed,
        Stage::UnderReReview => pb::Stage::UnderReReview,
        Stage::Final(_) => pb::Stage::Final,
        Stage::Returned => pb::Stage::Returned,
        Stage::Merged => pb::Stage::Merged,
    }
}

/// The contract's stage of a stage code (for list filters).
pub fn stage_code(s: pb::Stage) -> Option<&'static str> {
    Some(match s {
        pb::Stage::Unspecified => return None,
        pb::Stage::Received => "received",
        pb::Stage::NotAccepted => "not_accepted",
        pb::Stage::Handling => "handling",
        pb::Stage::Replied => "replied",
        pb::Stage::UnderReview => "under_review",
        pb::Stage::Reviewed => "reviewed",
        pb::Stage::UnderReReview => "under_rereview",
        pb::Stage::Final => "final",
        pb::Stage::Returned => "returned",
        pb::Stage::Merged => "merged",
    })
}

/// The domain outcome of the contract's.
pub fn outcome_of(o: pb::Outcome) -> Option<Outcome> {
    match o {
        pb::Outcome::Unspecified => None,
        pb::Outcome::Supported => Some(Outcome::Supported),
        pb::Outcome::Explained => Some(Outcome::Explained),
        pb::Outcome::NotSupported => Some(Outcome::NotSupported),
    }
}

fn outcome_pb(o: Option<Outcome>) -> pb::Outcome {
    match o {
        None => pb::Outcome::Unspecified,
        Some(Outcome::Supported) => pb::Outcome::Supported,
        Some(Outcome::Explained) => pb::Outcome::Explained,
        Some(Outcome::NotSupported) => pb::Outcome::NotSupported,
    }
}

fn ts(t: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    t.map(to_timestamp)
}

fn text_of<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The attachments as stored: `[{"name": …, "ref": …}]`.
pub fn attachments_json(list: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Array(
        list.iter()
            .map(|(name, r)| serde_json::json!({"name": name, "ref": r}))
            .collect(),
    )
}

/// A case as callers see it: personal data masked.
pub fn case(row: &CaseRow) -> pb::Case {
    let stage = stage_of(row);
    let attachments = row
        .attachments
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| pb::Attachment {
                    name: v["name"].as_str().unwrap_or_default().to_owned(),
                    r#ref: v["ref"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    pb::Case {
        case_id: row.case_id.to_string(),
        source_system: row.source_system.clone(),
        external_id: row.external_id.clone(),
        kind: if row.hotline {
            pb::CaseKind::Hotline
        } else {
            pb::CaseKind::Petition
        } as i32,
        channel: row.channel.clone(),
        sequence: row.sequence,
        petitioner_name: row.name_masked.clone(),
        id_number_masked: row.id_masked.clone(),
        phone_masked: row.phone_masked.clone(),
        region_code: row.region_code.clone(),
        content: row.content.clone(),
        attachments,
        received_at: Some(to_timestamp(row.received_at)),
        household_id: text_of(row.household_id),
        issue_id: row.issue_id.to_string(),
        stage: stage_pb(stage) as i32,
        outcome: outcome_pb(stage.outcome()) as i32,
        due_at: ts(row.due_at),
        extended: row.extended,
        extension_reason: row.extension_reason.clone(),
        answered_at: ts(row.answered_at),
        reply_text: row.reply_text.clone(),
        assignee: row.assignee.clone(),
        merged_into_case_id: text_of(row.merged_into),
        version: row.version,
        updated_at: Some(to_timestamp(row.updated_at)),
        repeat_of_case_id: text_of(row.repeat_of),
    }
}

/// A short description for events and notices: the content's start, never
/// the petitioner's name, ID number or phone.
pub fn summary(row: &CaseRow) -> String {
    const MAX: usize = 80;
    let text: String = row.content.chars().take(MAX).collect();
    if row.content.chars().count() > MAX {
        format!("{text}…")
    } else {
        text
    }
}

/// Extra facts some changes carry.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub note: String,
    pub merged_into_issue_id: String,
}

/// The `petition.case.*` payload.
pub fn event(row: &CaseRow, change: Change, extras: &Extras) -> PetitionCaseChanged {
    let stage = stage_of(row);
    PetitionCaseChanged {
        case_id: row.case_id.to_string(),
        change: change.proto().into(),
        external_id: row.external_id.clone(),
        source_system: row.source_system.clone(),
        channel: row.channel.clone(),
        region_code: row.region_code.clone(),
        issue_id: row.issue_id.to_string(),
        received_at: Some(to_timestamp(row.received_at)),
        due_at: ts(row.due_at),
        summary: summary(row),
        kind: if row.hotline { "hotline" } else { "petition" }.to_owned(),
        state: row.stage.clone(),
        household_id: text_of(row.household_id),
        merged_into_issue_id: extras.merged_into_issue_id.clone(),
        outcome: stage.outcome().map(Outcome::zh).unwrap_or("").to_owned(),
        note: extras.note.clone(),
        assignee: row.assignee.clone(),
    }
}

/// The answer pushed to the source system (its documented JSON).
pub fn answer(row: &CaseRow, change: Change, note: &str, at: DateTime<Utc>) -> serde_json::Value {
    let stage = stage_of(row);
    serde_json::json!({
        "external_id": row.external_id,
        "source_system": row.source_system,
        "case_id": row.case_id,
        "change": change.name(),
        "change_zh": change.zh(),
        "stage": stage.code(),
        "stage_zh": stage.zh(),
        "outcome": stage.outcome().map(Outcome::zh).unwrap_or(""),
        "text": note,
        "due_at": row.due_at.map(|d| d.to_rfc3339()),
        "at": at.to_rfc3339(),
    })
}

/// An answer's delivery as callers see it.
pub fn reply(row: &ReplyRow) -> pb::Reply {
    let state = match row.state.as_str() {
        "pending" => pb::ReplyState::Pending,
        "sending" => pb::ReplyState::Sending,
        "sent" => pb::ReplyState::Sent,
        "failed" => pb::ReplyState::Failed,
        _ => pb::ReplyState::Unspecified,
    };
    pb::Reply {
        reply_id: row.reply_id.to_string(),
        case_id: row.case_id.to_string(),
        change: row.change.clone(),
        state: state as i32,
        attempts: row.attempts,
        last_error: row.last_error.clone(),
        created_at: Some(to_timestamp(row.created_at)),
        sent_at: ts(row.sent_at),
    }
}
