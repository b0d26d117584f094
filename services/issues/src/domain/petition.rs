//! Petition cases (信访件) and 12345 hotline work orders (工单) from the
//! petition bridge: what each change of a case (`petition.case.<change>`)
//! means for the ledger item it became.
//!
//! The bridge owns the case and its statutory clock (信访工作条例); the
//! ledger follows: it keeps the current stage's deadline as the item's
//! deadline (so the sweeper announces it), closes the item when the case is
//! answered, refused or returned, reopens it when a review is asked for, and
//! marks it a duplicate when the order is merged. Every decision here looks
//! at the item's current state first, so a change replayed under a new event
//! id finds nothing left to do.
use chrono::{DateTime, SubsecRound, Utc};
use zoufang_proto::{catalogue, events::v1::CaseChange, issues::v1::IssueSource};

use super::state::State;

/// A change of a case: the last word of its routing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// 收到: the case reached the bridge; it becomes a ledger item.
    Received,
    /// 更新: details changed.
    Updated,
    /// 受理: accepted; handling is due in 60 days.
    Accepted,
    /// 不予受理: refused; closed.
    NotAccepted,
    /// 延期: handling extended once.
    Extended,
    /// 答复: the reply went out (支持 / 解释 / 不予支持).
    Replied,
    /// 申请复查: the petitioner asked for a review of the reply.
    ReviewRequested,
    /// 复查: the review's decision.
    Reviewed,
    /// 申请复核: the petitioner asked for a re-review of the review.
    RereviewRequested,
    /// 复核: the re-review's (final) decision.
    Rereviewed,
    /// 退单 (hotline): returned to the dispatcher.
    Returned,
    /// 改派 (hotline): a returned order went to another handler.
    Reassigned,
    /// 并单 (hotline): merged into another order.
    Merged,
}

impl Change {
    /// Every change.
    pub const ALL: [Change; 13] = [
        Change::Received,
        Change::Updated,
        Change::Accepted,
        Change::NotAccepted,
        Change::Extended,
        Change::Replied,
        Change::ReviewRequested,
        Change::Reviewed,
        Change::RereviewRequested,
        Change::Rereviewed,
        Change::Returned,
        Change::Reassigned,
        Change::Merged,
    ];

    /// The change as the events' enum.
    pub fn proto(self) -> CaseChange {
        match self {
            Change::Received => CaseChange::Received,
            Change::Updated => CaseChange::Updated,
            Change::Accepted => CaseChange::Accepted,
            Change::NotAccepted => CaseChange::NotAccepted,
            Change::Extended => CaseChange::Extended,
            Change::Replied => CaseChange::Replied,
            Change::ReviewRequested => CaseChange::ReviewRequested,
            Change::Reviewed => CaseChange::Reviewed,
            Change::RereviewRequested => CaseChange::RereviewRequested,
            Change::Rereviewed => CaseChange::Rereviewed,
            Change::Returned => CaseChange::Returned,
            Change::Reassigned => CaseChange::Reassigned,
            Change::Merged => CaseChange::Merged,
        }
    }

    /// The routing key's verb, from the catalogue.
    pub fn as_str(self) -> &'static str {
        catalogue::petition::verb_of(self.proto()).unwrap_or_default()
    }

    /// The change of an event's enum; None for one the ledger does not
    /// follow (`finalized`) and for `UNSPECIFIED`.
    pub fn of(change: CaseChange) -> Option<Change> {
        Change::ALL.into_iter().find(|c| c.proto() == change)
    }

    /// The Chinese name cadres read in the timeline.
    pub fn label_zh(self) -> &'static str {
        match self {
            Change::Received => "收到",
            Change::Updated => "更新",
            Change::Accepted => "受理",
            Change::NotAccepted => "不予受理",
            Change::Extended => "延期",
            Change::Replied => "答复",
            Change::ReviewRequested => "申请复查",
            Change::Reviewed => "复查",
            Change::RereviewRequested => "申请复核",
            Change::Rereviewed => "复核",
            Change::Returned => "退单",
            Change::Reassigned => "改派",
            Change::Merged => "并单",
        }
    }
}

/// The outcome of a reply, review or re-review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 支持: the claim is upheld; something was done.
    Supported,
    /// 解释: answered with an explanation.
    Explained,
    /// 不予支持: the claim is not upheld.
    NotSupported,
}

impl Outcome {
    /// The outcome written as `s` (支持, 解释 or 不予支持; surrounding
    /// whitespace ignored).
    pub fn parse(s: &str) -> Option<Outcome> {
        match s.trim() {
            "支持" => Some(Outcome::Supported),
            "解释" => Some(Outcome::Explained),
            "不予支持" => Some(Outcome::NotSupported),
            _ => None,
        }
    }
}

/// The ledger source of a case of `kind`: a 12345 work order is a hotline
/// item, anything else the bridge sends is a petition.
pub fn source_of(kind: &str) -> IssueSource {
    if kind.trim() == "hotline" {
        IssueSource::Hotline
    } else {
        IssueSource::Petition
    }
}

/// What a change does to the item besides moving its deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing more.
    Nothing,
    /// Close it as fixed (办结), with this resolution.
    Resolve(String),
    /// Close it with this explanation (解释说明).
    Explain(String),
    /// Reopen it for another round, for this reason.
    Reopen(&'static str),
    /// Mark it a duplicate of the item the case was merged into.
    Merge(String),
}

/// What to do to an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The deadline to set, when it changes (for a reopening: the new
    /// round's deadline, None leaving it to the SLA rules).
    pub deadline: Option<DateTime<Utc>>,
    /// The state change.
    pub step: Step,
}

/// Timestamps as PostgreSQL keeps them (microseconds), so a deadline read
/// back compares equal to the one written.
pub fn stored_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

fn with_note(prefix: &str, note: &str) -> String {
    match note.trim() {
        "" => prefix.to_owned(),
        note => format!("{prefix}：{note}"),
    }
}

/// The text closing an item when its case was answered: the reply's note as
/// the resolution when upheld, else an explanation naming the stage and the
/// outcome (an unknown outcome is named as it came).
fn answer(stage: &str, outcome: &str, note: &str) -> Step {
    match Outcome::parse(outcome) {
        Some(Outcome::Supported) => match note.trim() {
            "" => Step::Resolve(format!("{stage}（支持）")),
            note => Step::Resolve(note.to_owned()),
        },
        Some(Outcome::Explained) => Step::Explain(with_note(&format!("{stage}（解释）"), note)),
        Some(Outcome::NotSupported) => {
            Step::Explain(with_note(&format!("{stage}（不予支持）"), note))
        }
        None => {
            let outcome = match outcome.trim() {
                "" => "未注明结果",
                o => o,
            };
            Step::Explain(with_note(&format!("{stage}（{outcome}）"), note))
        }
    }
}

/// Decides what `change` does to an item in `state` with `deadline`, given
/// the case's `outcome`, `note` and current stage's `due_at` (already at
/// [`stored_precision`]).
///
/// - The deadline of an open item follows `due_at` whenever the case
///   carries one that differs from the item's. A closed item's deadline
///   stays (e.g. the bridge accepting a case the ledger already closed).
/// - 答复 / 复查 / 复核 and 不予受理 / 退单 close an item still open: 支持
///   resolves it, anything else explains it.
/// - 申请复查 / 申请复核, and 改派 of a returned work order, reopen a closed
///   item (resolved, explained or verified) with the new deadline.
/// - 并单 marks an open item a duplicate.
/// - 收到 changes nothing here: a new case is created, an existing one kept.
///
/// An item already where the change would take it is left alone, so a
/// replay finds nothing to do.
pub fn plan(
    change: Change,
    outcome: &str,
    note: &str,
    due_at: Option<DateTime<Utc>>,
    state: State,
    deadline: Option<DateTime<Utc>>,
) -> Plan {
    let closed = matches!(state, State::Resolved | State::Explained | State::Verified);
    let open = state.is_open();
    let step = match change {
        Change::Received => {
            return Plan {
                deadline: None,
                step: Step::Nothing,
            };
        }
        Change::Replied if open => answer("答复", outcome, note),
        Change::Reviewed if open => answer("复查", outcome, note),
        Change::Rereviewed if open => answer("复核", outcome, note),
        Change::NotAccepted if open => Step::Explain(with_note("不予受理", note)),
        Change::Returned if open => Step::Explain(with_note("退单", note)),
        Change::ReviewRequested if closed => Step::Reopen("申请复查"),
        Change::RereviewRequested if closed => Step::Reopen("申请复核"),
        Change::Reassigned if closed => Step::Reopen("改派"),
        Change::Merged if open => Step::Merge(with_note("并单", note)),
        _ => Step::Nothing,
    };
    let deadline = match step {
        // A new round always gets the case's deadline (or the SLA's).
        Step::Reopen(_) => due_at,
        // Only an item someone still works on runs against a deadline; a
        // closed one keeps the deadline it was closed against.
        _ if open => due_at.filter(|d| Some(*d) != deadline),
        _ => None,
    };
    Plan { deadline, step }
}

/// A deadline as cadres read it: Beijing time, to the minute.
pub use zoufang_types::beijing::minute as show_time;

/// The timeline note of a deadline the case moved:
/// `信访时限调整（受理）：2026-11-12 18:00`.
pub fn deadline_note(change: Change, deadline: DateTime<Utc>) -> String {
    format!(
        "信访时限调整（{}）：{}",
        change.label_zh(),
        show_time(deadline)
    )
}

/// The note of a new item made from a case: what it is, from where, and
/// its deadline.
pub fn received_note(
    source: IssueSource,
    channel: &str,
    external_id: &str,
    deadline: Option<DateTime<Utc>>,
) -> String {
    let what = match source {
        IssueSource::Hotline => "12345工单",
        _ => "信访件",
    };
    let mut note = format!("收到{what}");
    let origin: Vec<&str> = [channel.trim(), external_id.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    if !origin.is_empty() {
        note.push_str(&format!("（{}）", origin.join(" ")));
    }
    if let Some(d) = deadline {
        note.push_str(&format!("，时限：{}", show_time(d)));
    }
    note
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 2, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn plan_of(change: Change, outcome: &str, note: &str, state: State) -> Plan {
        plan(change, outcome, note, None, state, Some(t0()))
    }

    #[test]
    fn changes_round_trip_and_unknown_ones_are_none() {
        use catalogue::petition::{PREFIX, key_of};
        for c in Change::ALL {
            let key = key_of(c.proto()).expect("a key");
            assert_eq!(key, format!("{PREFIX}{}", c.as_str()));
            assert_eq!(Change::of(c.proto()), Some(c));
        }
        assert_eq!(Change::of(CaseChange::Finalized), None);
        assert_eq!(Change::of(CaseChange::Unspecified), None);
        let labels: Vec<_> = Change::ALL.into_iter().map(Change::label_zh).collect();
        assert_eq!(
            labels.join(" "),
            "收到 更新 受理 不予受理 延期 答复 申请复查 复查 申请复核 复核 退单 改派 并单"
        );
    }

    #[test]
    fn outcomes_and_sources() {
        assert_eq!(Outcome::parse("支持"), Some(Outcome::Supported));
        assert_eq!(Outcome::parse(" 解释 "), Some(Outcome::Explained));
        assert_eq!(Outcome::parse("不予支持"), Some(Outcome::NotSupported));
        assert_eq!(Outcome::parse("部分支持"), None);
        assert_eq!(source_of("hotline"), IssueSource::Hotline);
        assert_eq!(source_of("petition"), IssueSource::Petition);
        assert_eq!(source_of(""), IssueSource::Petition);
    }

    #[test]
    fn the_deadline_follows_due_at_only_when_it_moves() {
        let later = t0() + Duration::days(60);
        for state in State::ALL {
            let p = plan(Change::Accepted, "", "", Some(later), state, Some(t0()));
            let want = state.is_open().then_some(later);
            assert_eq!(p.deadline, want, "{state}");
            assert_eq!(p.step, Step::Nothing);
        }
        let same = plan(
            Change::Extended,
            "",
            "",
            Some(t0()),
            State::Open,
            Some(t0()),
        );
        assert_eq!(same.deadline, None, "a replay moves nothing");
        let none = plan(Change::Updated, "", "", None, State::Open, Some(t0()));
        assert_eq!(none.deadline, None, "no due_at leaves the deadline");
        let first = plan(Change::Updated, "", "", Some(t0()), State::Open, None);
        assert_eq!(first.deadline, Some(t0()));
    }

    #[test]
    fn received_changes_nothing_on_an_existing_item() {
        let p = plan(
            Change::Received,
            "",
            "",
            Some(t0() + Duration::days(3)),
            State::Open,
            Some(t0()),
        );
        assert_eq!(
            p,
            Plan {
                deadline: None,
                step: Step::Nothing
            }
        );
    }

    #[test]
    fn answers_close_open_items() {
        use State::*;
        for state in [Open, Assigned, InProgress, Escalated, Reopened] {
            assert_eq!(
                plan_of(Change::Replied, "支持", " 已修复道路 ", state).step,
                Step::Resolve("已修复道路".into())
            );
            assert_eq!(
                plan_of(Change::Replied, "支持", "", state).step,
                Step::Resolve("答复（支持）".into())
            );
            assert_eq!(
                plan_of(Change::Replied, "解释", "按政策办理", state).step,
                Step::Explain("答复（解释）：按政策办理".into())
            );
            assert_eq!(
                plan_of(Change::Reviewed, "不予支持", "维持原意见", state).step,
                Step::Explain("复查（不予支持）：维持原意见".into())
            );
            assert_eq!(
                plan_of(Change::Rereviewed, "支持", "撤销原意见", state).step,
                Step::Resolve("撤销原意见".into())
            );
            assert_eq!(
                plan_of(Change::Rereviewed, "", "", state).step,
                Step::Explain("复核（未注明结果）".into())
            );
            assert_eq!(
                plan_of(Change::Replied, "部分支持", "x", state).step,
                Step::Explain("答复（部分支持）：x".into())
            );
            assert_eq!(
                plan_of(Change::NotAccepted, "", "不属于信访事项", state).step,
                Step::Explain("不予受理：不属于信访事项".into())
            );
            assert_eq!(
                plan_of(Change::Returned, "", "", state).step,
                Step::Explain("退单".into())
            );
            assert_eq!(
                plan_of(Change::Merged, "", "", state).step,
                Step::Merge("并单".into())
            );
        }
    }

    #[test]
    fn closing_changes_leave_closed_items_alone() {
        use State::*;
        for state in [Resolved, Explained, Verified, Duplicate] {
            for change in [
                Change::Replied,
                Change::Reviewed,
                Change::Rereviewed,
                Change::NotAccepted,
                Change::Returned,
                Change::Merged,
            ] {
                let p = plan_of(change, "支持", "x", state);
                assert_eq!(p.step, Step::Nothing, "{change:?} on {state}");
            }
        }
    }

    #[test]
    fn appeals_and_reassignment_reopen_closed_items_with_the_new_deadline() {
        use State::*;
        let due = t0() + Duration::days(30);
        for state in [Resolved, Explained, Verified] {
            for (change, reason) in [
                (Change::ReviewRequested, "申请复查"),
                (Change::RereviewRequested, "申请复核"),
                (Change::Reassigned, "改派"),
            ] {
                let p = plan(change, "", "", Some(due), state, Some(t0()));
                assert_eq!(p.step, Step::Reopen(reason), "{change:?} on {state}");
                assert_eq!(p.deadline, Some(due));
                // Even when the deadline happens to be the old one.
                let p = plan(change, "", "", Some(t0()), state, Some(t0()));
                assert_eq!(p.deadline, Some(t0()));
            }
        }
        // Still open: only the deadline moves.
        for state in [Open, Assigned, InProgress, Escalated, Reopened] {
            let p = plan(
                Change::ReviewRequested,
                "",
                "",
                Some(due),
                state,
                Some(t0()),
            );
            assert_eq!(
                p,
                Plan {
                    deadline: Some(due),
                    step: Step::Nothing
                },
                "{state}"
            );
        }
        let p = plan(
            Change::ReviewRequested,
            "",
            "",
            Some(due),
            Duplicate,
            Some(t0()),
        );
        assert_eq!(
            p,
            Plan {
                deadline: None,
                step: Step::Nothing
            },
            "a duplicate stays as it is"
        );
    }

    #[test]
    fn a_replayed_change_finds_nothing_to_do() {
        use State::*;
        let due = t0() + Duration::days(30);
        // After each change, the item is where the change put it: the same
        // change again (same payload, new event id) plans nothing.
        let cases = [
            (Change::Accepted, "", Open),
            (Change::Extended, "", Open),
            (Change::Replied, "支持", Resolved),
            (Change::Reviewed, "不予支持", Explained),
            (Change::NotAccepted, "", Explained),
            (Change::Returned, "", Explained),
            (Change::Merged, "", Duplicate),
            (Change::ReviewRequested, "", Reopened),
            (Change::RereviewRequested, "", Reopened),
            (Change::Reassigned, "", Reopened),
        ];
        for (change, outcome, after) in cases {
            let p = plan(change, outcome, "x", Some(due), after, Some(due));
            assert_eq!(
                p,
                Plan {
                    deadline: None,
                    step: Step::Nothing
                },
                "{change:?}"
            );
        }
    }

    #[test]
    fn precision_and_notes() {
        let t = t0() + Duration::nanoseconds(123_456_789);
        assert_eq!(stored_precision(t), t0() + Duration::microseconds(123_456));
        assert_eq!(show_time(t0()), "2026-11-01 10:00");
        assert_eq!(
            deadline_note(Change::Accepted, t0() + Duration::days(60)),
            "信访时限调整（受理）：2026-12-31 10:00"
        );
        assert_eq!(
            deadline_note(Change::Extended, t0()),
            "信访时限调整（延期）：2026-11-01 10:00"
        );
        assert_eq!(
            received_note(IssueSource::Petition, "来信", "XF-1", Some(t0())),
            "收到信访件（来信 XF-1），时限：2026-11-01 10:00"
        );
        assert_eq!(
            received_note(IssueSource::Hotline, "", "", None),
            "收到12345工单"
        );
    }
}
