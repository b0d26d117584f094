//! Proto views. The worklist is blind: a callback never shows which cadre
//! made the visit or answers for the item.
use zoufang_proto::supervision::v1::{Callback, CallbackState};
use zoufang_runtime::fields::to_timestamp;

use crate::store::callbacks::CallbackRow;

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
