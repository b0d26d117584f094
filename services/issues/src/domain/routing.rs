//! Who may answer for an issue, and what a failed rectification loop does.
//!
//! Conflict of interest (回避): a complaint about a cadre or village official
//! must never land on that person's desk — it goes one level up. And an item
//! that keeps coming back unsatisfied (二次整改 and beyond) climbs the
//! escalation ladder on its own, so it cannot circle at the township forever.
use zoufang_core::{ServiceError, ServiceResult};

use super::sla::second_round_days;

/// Reopens allowed before an issue escalates automatically: the first fix
/// and one second-round fix may fail; the third failure goes up.
pub const DEFAULT_MAX_LOOPS: i32 = 2;

/// Refuses to make `cadre_id` responsible when the complaint concerns them.
///
/// An empty id is INVALID_ARGUMENT on `field`; a concerned cadre is
/// FAILED_PRECONDITION, since the request is well-formed but this issue
/// cannot go to that person. Ids compare trimmed.
pub fn check_assignee(field: &str, cadre_id: &str, concerned: &[String]) -> ServiceResult<()> {
    let cadre_id = cadre_id.trim();
    if cadre_id.is_empty() {
        return Err(ServiceError::invalid(field, "is required"));
    }
    if concerned.iter().any(|c| c.trim() == cadre_id) {
        return Err(ServiceError::FailedPrecondition(format!(
            "the complaint concerns cadre {cadre_id}; route it one level up (to the township leadership)"
        )));
    }
    Ok(())
}

/// What an issue becomes after a reopen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReopenOutcome {
    /// The new rectification round (2 for 二次整改 …).
    pub round: i32,
    /// Days to the new round's deadline.
    pub deadline_days: i32,
    /// Whether the loop limit is exceeded and the issue goes one level up.
    pub escalate: bool,
    /// The escalation level after the reopen (unchanged unless escalating).
    pub escalation_level: i32,
}

/// The round, deadline and escalation after the `reopen_count_after`-th
/// reopen.
///
/// Every reopen starts a new round with a [`second_round_days`] deadline
/// (derived from the first round, so deadlines do not shrink round after
/// round). Each reopen beyond `max_loops` climbs one more level: if the
/// county department also fails, the county leadership takes it. A round
/// below 1 (legacy rows) counts as the first; a negative limit as zero.
pub fn after_reopen(
    reopen_count_after: i32,
    current_round: i32,
    current_level: i32,
    first_round_days: i32,
    max_loops: i32,
) -> ReopenOutcome {
    let escalate = reopen_count_after > max_loops.max(0);
    let current_level = current_level.max(0);
    ReopenOutcome {
        round: current_round.max(1).saturating_add(1),
        deadline_days: second_round_days(first_round_days),
        escalate,
        escalation_level: if escalate {
            current_level.saturating_add(1)
        } else {
            current_level
        },
    }
}

/// The Chinese name of an escalation level: 0 乡镇, 1 县直部门, 2 县级领导,
/// 3 and above 市级 (negative levels count as the township).
pub fn level_label_zh(level: i32) -> &'static str {
    match level {
        i32::MIN..=0 => "乡镇",
        1 => "县直部门",
        2 => "县级领导",
        _ => "市级",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concerned(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_uninvolved_cadre_may_be_assigned() {
        assert!(check_assignee("cadre_id", "c-1", &concerned(&["c-2", "c-3"])).is_ok());
        assert!(check_assignee("cadre_id", "c-1", &[]).is_ok());
    }

    #[test]
    fn a_concerned_cadre_is_refused_with_the_way_up() {
        let err = check_assignee("cadre_id", " c-2 ", &concerned(&["c-1", "c-2"])).unwrap_err();
        let ServiceError::FailedPrecondition(msg) = err else {
            panic!("expected FailedPrecondition, got {err:?}");
        };
        assert_eq!(
            msg,
            "the complaint concerns cadre c-2; route it one level up (to the township leadership)"
        );
    }

    #[test]
    fn concerned_ids_compare_trimmed() {
        assert!(check_assignee("cadre_id", "c-2", &concerned(&["c-2 "])).is_err());
    }

    #[test]
    fn empty_cadre_is_invalid_on_the_field() {
        for id in ["", "   "] {
            match check_assignee("responsible_cadre_id", id, &[]) {
                Err(ServiceError::InvalidArgument(vs)) => {
                    assert_eq!(vs.len(), 1);
                    assert_eq!(vs[0].field, "responsible_cadre_id");
                    assert_eq!(vs[0].reason, "is required");
                }
                other => panic!("expected InvalidArgument, got {other:?}"),
            }
        }
    }

    #[test]
    fn first_reopen_is_a_second_round_without_escalation() {
        let out = after_reopen(1, 1, 0, 15, DEFAULT_MAX_LOOPS);
        assert_eq!(
            out,
            ReopenOutcome {
                round: 2,
                deadline_days: 8,
                escalate: false,
                escalation_level: 0
            }
        );
    }

    #[test]
    fn reopens_up_to_the_limit_stay_put() {
        let out = after_reopen(2, 2, 0, 15, DEFAULT_MAX_LOOPS);
        assert_eq!(
            (out.round, out.escalate, out.escalation_level),
            (3, false, 0)
        );
    }

    #[test]
    fn exceeding_the_limit_escalates_one_level_each_time() {
        let out = after_reopen(3, 3, 0, 15, DEFAULT_MAX_LOOPS);
        assert_eq!(
            (out.round, out.escalate, out.escalation_level),
            (4, true, 1)
        );
        let out = after_reopen(4, 4, 1, 15, DEFAULT_MAX_LOOPS);
        assert_eq!(
            (out.round, out.escalate, out.escalation_level),
            (5, true, 2)
        );
    }

    #[test]
    fn deadline_derives_from_the_first_round() {
        assert_eq!(after_reopen(1, 1, 0, 60, 2).deadline_days, 30);
        assert_eq!(after_reopen(1, 1, 0, 3, 2).deadline_days, 3);
        // A later round does not halve again.
        assert_eq!(after_reopen(2, 2, 0, 60, 2).deadline_days, 30);
    }

    #[test]
    fn configurable_limit() {
        assert!(after_reopen(1, 1, 0, 15, 0).escalate);
        assert!(!after_reopen(3, 3, 0, 15, 5).escalate);
        assert!(after_reopen(6, 6, 0, 15, 5).escalate);
        // A negative limit behaves like zero.
        assert!(after_reopen(1, 1, 0, 15, -2).escalate);
    }

    #[test]
    fn odd_inputs_are_normalised() {
        let out = after_reopen(1, 0, -1, 15, 0);
        assert_eq!((out.round, out.escalation_level), (2, 1));
        let out = after_reopen(1, i32::MAX, i32::MAX, 15, 0);
        assert_eq!((out.round, out.escalation_level), (i32::MAX, i32::MAX));
    }

    #[test]
    fn level_labels() {
        assert_eq!(level_label_zh(-1), "乡镇");
        assert_eq!(level_label_zh(0), "乡镇");
        assert_eq!(level_label_zh(1), "县直部门");
        assert_eq!(level_label_zh(2), "县级领导");
        assert_eq!(level_label_zh(3), "市级");
        assert_eq!(level_label_zh(7), "市级");
    }
}
