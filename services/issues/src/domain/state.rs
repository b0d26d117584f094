//! The issue state machine (民情诉求的办理流程).
//!
//! Every transition the ledger performs goes through [`transition`], so the
//! table below is the single place that says what may happen to an issue in
//! which state. The `ops` layer applies the result under an optimistic
//! version check; this module only decides legality.
use std::fmt;

use zoufang_core::{ServiceError, ServiceResult};
use zoufang_proto::issues::v1::IssueState;

/// Where an issue is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Heard, nobody answers for it yet (待办).
    Open,
    /// Handed to a responsible cadre (已交办).
    Assigned,
    /// The responsible cadre is working on it (办理中).
    InProgress,
    /// The cadre says it is fixed; awaiting a callback (已办结).
    Resolved,
    /// A supervisor confirmed the fix with the resident (已核实) — closed.
    Verified,
    /// Closed with an explanation of policy rather than a fix (已解释说明).
    Explained,
    /// Sent up to a department or a higher level (已上报).
    Escalated,
    /// Back in work after an unsatisfied callback (已重新打开).
    Reopened,
    /// Merged into another issue (已合并) — closed.
    Duplicate,
}

impl State {
    /// Every state, in proto order.
    pub const ALL: [State; 9] = [
        State::Open,
        State::Assigned,
        State::InProgress,
        State::Resolved,
        State::Verified,
        State::Explained,
        State::Escalated,
        State::Reopened,
        State::Duplicate,
    ];

    /// The snake_case name stored in the database; never change these.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Assigned => "assigned",
            State::InProgress => "in_progress",
            State::Resolved => "resolved",
            State::Verified => "verified",
            State::Explained => "explained",
            State::Escalated => "escalated",
            State::Reopened => "reopened",
            State::Duplicate => "duplicate",
        }
    }

    /// The state stored as `s` (exact match, as written by [`State::as_str`]).
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The wire enum.
    pub fn to_proto(self) -> IssueState {
        match self {
            State::Open => IssueState::Open,
            State::Assigned => IssueState::Assigned,
            State::InProgress => IssueState::InProgress,
            State::Resolved => IssueState::Resolved,
            State::Verified => IssueState::Verified,
            State::Explained => IssueState::Explained,
            State::Escalated => IssueState::Escalated,
            State::Reopened => IssueState::Reopened,
            State::Duplicate => IssueState::Duplicate,
        }
    }

    /// The state of a wire value; `None` for unspecified or unknown values,
    /// so a filter left empty is distinguishable from a real state.
    pub fn from_proto(value: i32) -> Option<State> {
        match IssueState::try_from(value).ok()? {
            IssueState::Unspecified => None,
            IssueState::Open => Some(State::Open),
            IssueState::Assigned => Some(State::Assigned),
            IssueState::InProgress => Some(State::InProgress),
            IssueState::Resolved => Some(State::Resolved),
            IssueState::Verified => Some(State::Verified),
            IssueState::Explained => Some(State::Explained),
            IssueState::Escalated => Some(State::Escalated),
            IssueState::Reopened => Some(State::Reopened),
            IssueState::Duplicate => Some(State::Duplicate),
        }
    }

    /// The Chinese label cadres see in the ledger and in error messages.
    pub fn label_zh(self) -> &'static str {
        match self {
            State::Open => "待办",
            State::Assigned => "已交办",
            State::InProgress => "办理中",
            State::Resolved => "已办结",
            State::Verified => "已核实",
            State::Explained => "已解释说明",
            State::Escalated => "已上报",
            State::Reopened => "已重新打开",
            State::Duplicate => "已合并",
        }
    }

    /// Whether someone still has to act: these count against SLAs, may be
    /// supervised (督办) and may be merged. Resolved is not open — the
    /// cadre's work is done and only the callback remains.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            State::Open | State::Assigned | State::InProgress | State::Escalated | State::Reopened
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something done to an issue; each emits one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Hand to (or re-hand to) a responsible cadre (交办).
    Assign,
    /// The responsible cadre starts work.
    Start,
    /// Report it fixed (办结).
    Resolve,
    /// Close with an explanation (解释说明).
    Explain,
    /// Send up to a department or higher level (上报).
    Escalate,
    /// The receiving department signs for it (签收).
    Sign,
    /// The receiving department returns it with a reason (退回).
    Return,
    /// A county supervision order (督办).
    Supervise,
    /// A supervisor confirms the outcome (核实).
    Verify,
    /// Back to work after an unsatisfied callback (重新打开).
    Reopen,
    /// Merge into another issue (合并).
    Merge,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 11] = [
        Action::Assign,
        Action::Start,
        Action::Resolve,
        Action::Explain,
        Action::Escalate,
        Action::Sign,
        Action::Return,
        Action::Supervise,
        Action::Verify,
        Action::Reopen,
        Action::Merge,
    ];

    /// The snake_case name, as recorded in the timeline.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Assign => "assign",
            Action::Start => "start",
            Action::Resolve => "resolve",
            Action::Explain => "explain",
            Action::Escalate => "escalate",
            Action::Sign => "sign",
            Action::Return => "return",
            Action::Supervise => "supervise",
            Action::Verify => "verify",
            Action::Reopen => "reopen",
            Action::Merge => "merge",
        }
    }

    /// The action recorded as `s` (exact match).
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state an issue in `from` reaches by `action`, or FAILED_PRECONDITION
/// naming the action and the current state.
pub fn transition(from: State, action: Action) -> ServiceResult<State> {
    use State::*;
    let to = match (action, from) {
        // Re-assigning while assigned or in progress is a hand-over.
        (Action::Assign, Open | Reopened | Assigned | InProgress) => Some(Assigned),
        (Action::Start, Assigned | Reopened) => Some(InProgress),
        // Escalated issues are resolved by the receiving department. An open
        // one may be resolved straight away when it was handled outside the
        // ledger: a petition case the petition system answered 支持 (just as
        // an open item may be closed with an explanation).
        (Action::Resolve, Open | Assigned | InProgress | Reopened | Escalated) => Some(Resolved),
        (Action::Explain, Open | Assigned | InProgress | Reopened | Escalated) => Some(Explained),
        (Action::Escalate, Open | Assigned | InProgress | Reopened) => Some(Escalated),
        // Signing records receipt; the issue stays with the department.
        (Action::Sign, Escalated) => Some(Escalated),
        // A returned issue goes back to the township's to-do list.
        (Action::Return, Escalated) => Some(Open),
        // 督办 changes priority and deadline, not the state.
        (Action::Supervise, s) if s.is_open() => Some(s),
        (Action::Verify, Resolved | Explained) => Some(Verified),
        // Verified can reopen too: a late complaint after the callback.
        (Action::Reopen, Resolved | Explained | Verified) => Some(Reopened),
        (Action::Merge, s) if s.is_open() => Some(Duplicate),
        _ => None,
    };
    to.ok_or_else(|| {
        ServiceError::FailedPrecondition(format!(
            "cannot {} an issue that is {} ({})",
            action.as_str(),
            from.as_str(),
            from.label_zh()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The allowed (from, action, to) triples, written out independently of
    /// `transition` (per action: the states it applies to and the target,
    /// `None` meaning "stays") so a slip in either shows up. Unformatted:
    /// a table reads best in columns.
    #[rustfmt::skip]
    fn allowed() -> Vec<(State, Action, State)> {
        use Action as A;
        use State::*;
        let open = [Open, Assigned, InProgress, Escalated, Reopened];
        let rows: [(A, &[State], Option<State>); 11] = [
            (A::Assign,     &[Open, Reopened, Assigned, InProgress],        Some(Assigned)),
            (A::Start,      &[Assigned, Reopened],                          Some(InProgress)),
            (A::Resolve,    &open,                                          Some(Resolved)),
            (A::Explain,    &open,                                          Some(Explained)),
            (A::Escalate,   &[Open, Assigned, InProgress, Reopened],        Some(Escalated)),
            (A::Sign,       &[Escalated],                                   None),
            (A::Return,     &[Escalated],                                   Some(Open)),
            (A::Supervise,  &open,                                          None),
            (A::Verify,     &[Resolved, Explained],                         Some(Verified)),
            (A::Reopen,     &[Resolved, Explained, Verified],               Some(Reopened)),
            (A::Merge,      &open,                                          Some(Duplicate)),
        ];
        rows.into_iter()
            .flat_map(|(a, froms, to)| froms.iter().map(move |&f| (f, a, to.unwrap_or(f))))
            .collect()
    }

    #[test]
    fn every_state_action_pair_matches_the_table() {
        let table = allowed();
        let mut checked = 0;
        for from in State::ALL {
            for action in Action::ALL {
                let expected = table
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match (transition(from, action), expected) {
                    (Ok(got), Some(want)) => assert_eq!(got, want, "{from} + {action}"),
                    (Err(ServiceError::FailedPrecondition(_)), None) => {}
                    (got, want) => panic!("{from} + {action}: got {got:?}, want {want:?}"),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 99);
        assert_eq!(table.len(), 37);
    }

    fn refusal(from: State, action: Action) -> String {
        match transition(from, action) {
            Err(ServiceError::FailedPrecondition(msg)) => msg,
            other => panic!("expected FailedPrecondition, got {other:?}"),
        }
    }

    #[test]
    fn refusal_names_action_and_current_state() {
        let msg = refusal(State::Verified, Action::Resolve);
        assert_eq!(msg, "cannot resolve an issue that is verified (已核实)");
        let msg = refusal(State::Duplicate, Action::Merge);
        assert_eq!(msg, "cannot merge an issue that is duplicate (已合并)");
        let msg = refusal(State::Open, Action::Start);
        assert_eq!(msg, "cannot start an issue that is open (待办)");
    }

    #[test]
    fn an_open_item_closes_either_way() {
        // A petition answered outside the ledger: 支持 resolves it, anything
        // else explains it, whether or not anyone was assigned in the ledger.
        assert_eq!(
            transition(State::Open, Action::Resolve).ok(),
            Some(State::Resolved)
        );
        assert_eq!(
            transition(State::Open, Action::Explain).ok(),
            Some(State::Explained)
        );
    }

    #[test]
    fn duplicate_is_terminal() {
        for action in Action::ALL {
            assert!(transition(State::Duplicate, action).is_err(), "{action}");
        }
    }

    #[test]
    fn the_happy_path_runs_open_to_verified() {
        use Action::*;
        let mut s = State::Open;
        for a in [Assign, Start, Resolve, Verify] {
            s = transition(s, a).unwrap();
        }
        assert_eq!(s, State::Verified);
    }

    #[test]
    fn state_strings_round_trip_and_are_distinct() {
        let expected =
            "open assigned in_progress resolved verified explained escalated reopened duplicate";
        for (s, want) in State::ALL.into_iter().zip(expected.split(' ')) {
            assert_eq!(s.as_str(), want);
            assert_eq!(State::parse(want), Some(s));
            assert_eq!(s.to_string(), want);
        }
        assert_eq!(State::parse("Open"), None);
        assert_eq!(State::parse(""), None);
    }

    #[test]
    fn proto_round_trip() {
        for s in State::ALL {
            assert_eq!(State::from_proto(s.to_proto() as i32), Some(s));
        }
        let open = IssueState::Open as i32;
        assert_eq!(State::from_proto(open), Some(State::Open));
        assert_eq!(State::from_proto(0), None);
        assert_eq!(State::from_proto(99), None);
        assert_eq!(State::from_proto(-1), None);
    }

    #[test]
    fn chinese_labels() {
        let labels: Vec<_> = State::ALL.into_iter().map(State::label_zh).collect();
        let expected = "待办 已交办 办理中 已办结 已核实 已解释说明 已上报 已重新打开 已合并";
        assert_eq!(labels.join(" "), expected);
    }

    #[test]
    fn open_states() {
        use State::*;
        let open: Vec<_> = State::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [Open, Assigned, InProgress, Escalated, Reopened]);
    }

    #[test]
    fn action_strings() {
        let names =
            "assign start resolve explain escalate sign return supervise verify reopen merge";
        for (a, name) in Action::ALL.into_iter().zip(names.split(' ')) {
            assert_eq!(a.as_str(), name);
            assert_eq!(Action::parse(name), Some(a));
            assert_eq!(a.to_string(), name);
        }
        assert_eq!(Action::ALL.len(), 11);
        assert_eq!(Action::parse("assigned"), None);
    }
}
