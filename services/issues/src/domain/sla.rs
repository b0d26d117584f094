//! Deadlines (办理时限): default days by kind and priority, campaign rules
//! that override them, second-round (二次整改) and supervision (督办)
//! deadlines, and the due-soon / overdue thresholds the sweeper reports.
//!
//! The clock is always passed in: the `ops` layer reads it once per request
//! so that one operation sees one "now".
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use zoufang_core::error::FieldViolation;
use zoufang_core::{ServiceError, ServiceResult};
use zoufang_proto::common::v1::ItemKind;
use zoufang_proto::issues::v1::Priority;

/// The longest deadline a rule may set: a campaign runs about a year, and a
/// longer limit would never be checked by it.
pub const MAX_RULE_DAYS: i32 = 365;

/// A campaign's deadline for matching issues; zero / empty fields match any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlaRule {
    /// `ItemKind` value; 0 = any kind.
    pub kind: i32,
    /// Ledger category; "" = any category.
    pub category: String,
    /// `Priority` value; 0 = any priority.
    pub priority: i32,
    /// Days from creation (or assignment) to the deadline.
    pub days: i32,
}

impl SlaRule {
    /// How many fields are not wildcards: the more, the more specific.
    fn specificity(&self) -> u8 {
        u8::from(self.kind != 0)
            + u8::from(!self.category.trim().is_empty())
            + u8::from(self.priority != 0)
    }

    fn matches(&self, kind: ItemKind, category: &str, priority: Priority) -> bool {
        let rule_category = self.category.trim();
        (self.kind == 0 || self.kind == kind as i32)
            && (rule_category.is_empty() || rule_category == category.trim())
            && (self.priority == 0 || self.priority == priority as i32)
    }
}

/// An unspecified priority is handled as normal everywhere: it is what a
/// visit without the urgent flag means.
fn effective(priority: Priority) -> Priority {
    match priority {
        Priority::Unspecified => Priority::Normal,
        p => p,
    }
}

/// The built-in deadline when no campaign rule matches.
///
/// Urgent and high priority override the kind; a petition gets the 60-day
/// statutory handling limit (信访工作条例); an unspecified kind is handled
/// like a problem.
pub fn default_days(kind: ItemKind, priority: Priority) -> i32 {
    match effective(priority) {
        Priority::Urgent => 3,
        Priority::High => 7,
        Priority::Normal | Priority::Unspecified => match kind {
            ItemKind::Petition => 60,
            ItemKind::Suggestion => 30,
            ItemKind::Problem | ItemKind::Dispute | ItemKind::Unspecified => 15,
        },
    }
}

/// The deadline in days for an issue: the most specific matching rule (ties
/// go to the shorter deadline, the safer reading for the resident), else
/// [`default_days`].
pub fn deadline_days(rules: &[SlaRule], kind: ItemKind, category: &str, priority: Priority) -> i32 {
    let priority = effective(priority);
    rules
        .iter()
        .filter(|r| r.matches(kind, category, priority))
        // Highest specificity first, then the fewest days.
        .min_by_key(|r| (std::cmp::Reverse(r.specificity()), r.days))
        .map_or_else(|| default_days(kind, priority), |r| r.days)
}

/// Checks a campaign's rules: known kind and priority, days within
/// 1..=[`MAX_RULE_DAYS`], and no two rules for the same (kind, category,
/// priority) — which one applied would otherwise depend on storage order.
/// Every violation is reported, each naming `field[i].…`.
pub fn validate_rules(field: &str, rules: &[SlaRule]) -> ServiceResult<()> {
    let mut violations = Vec::new();
    let mut push = |path: String, reason: String| {
        violations.push(FieldViolation {
            field: path,
            reason,
        })
    };
    let mut seen: HashMap<(i32, &str, i32), usize> = HashMap::new();
    for (i, rule) in rules.iter().enumerate() {
        if ItemKind::try_from(rule.kind).is_err() {
            push(format!("{field}[{i}].kind"), "is not a known kind".into());
        }
        if Priority::try_from(rule.priority).is_err() {
            push(
                format!("{field}[{i}].priority"),
                "is not a known priority".into(),
            );
        }
        if !(1..=MAX_RULE_DAYS).contains(&rule.days) {
            push(
                format!("{field}[{i}].days"),
                format!("must be between 1 and {MAX_RULE_DAYS}"),
            );
        }
        let key = (rule.kind, rule.category.trim(), rule.priority);
        if let Some(first) = seen.get(&key) {
            push(
                format!("{field}[{i}]"),
                format!("duplicates {field}[{first}] (same kind, category and priority)"),
            );
        } else {
            seen.insert(key, i);
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::InvalidArgument(violations))
    }
}

/// The deadline of a second rectification round (二次整改): half the first
/// round rounded up, at least 3 days — shorter because the cadre already
/// knows the case, but never too short to act on.
pub fn second_round_days(first_round_days: i32) -> i32 {
    (first_round_days.saturating_add(1) / 2).max(3)
}

/// `now` plus `days` (negative days count as zero); saturates at the
/// latest representable time instead of panicking on absurd input.
pub fn deadline_after(now: DateTime<Utc>, days: i32) -> DateTime<Utc> {
    now.checked_add_signed(Duration::days(i64::from(days.max(0))))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The deadline after a supervision order (督办): `now + days`, but never
/// later than the current deadline — supervision only tightens.
pub fn supervised_deadline(
    current: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    days: i32,
) -> DateTime<Utc> {
    let proposed = deadline_after(now, days);
    current.map_or(proposed, |c| c.min(proposed))
}

/// A deadline threshold the sweeper reports once each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Threshold {
    /// The deadline is within the warning window (即将到期).
    DueSoon,
    /// The deadline has passed (已超期).
    Overdue,
}

impl Threshold {
    /// The snake_case name, also the event verb: `issues.issue.<verb>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Threshold::DueSoon => "due_soon",
            Threshold::Overdue => "overdue",
        }
    }
}

/// Which threshold `now` has crossed for `deadline`: overdue strictly after
/// it, due soon from `deadline - due_soon_window` up to and including it.
/// A non-positive window turns due-soon warnings off.
pub fn threshold(
    now: DateTime<Utc>,
    deadline: DateTime<Utc>,
    due_soon_window: Duration,
) -> Option<Threshold> {
    if now > deadline {
        return Some(Threshold::Overdue);
    }
    if due_soon_window <= Duration::zero() {
        return None;
    }
    // A window reaching before the earliest time means "always due soon".
    let warn_from = deadline
        .checked_sub_signed(due_soon_window)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    (now >= warn_from).then_some(Threshold::DueSoon)
}

/// The priority a supervision order raises to: normal → high → urgent, and
/// urgent stays urgent (unspecified counts as normal).
pub fn priority_raised(p: Priority) -> Priority {
    match effective(p) {
        Priority::Normal | Priority::Unspecified => Priority::High,
        Priority::High | Priority::Urgent => Priority::Urgent,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use ItemKind as K;
    use Priority as P;
    use Threshold::{DueSoon, Overdue};

    fn rule(kind: ItemKind, category: &str, priority: Priority, days: i32) -> SlaRule {
        SlaRule {
            kind: kind as i32,
            category: category.into(),
            priority: priority as i32,
            days,
        }
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn defaults_by_priority_then_kind() {
        for kind in [K::Problem, K::Suggestion, K::Dispute, K::Petition] {
            assert_eq!(default_days(kind, P::Urgent), 3);
            assert_eq!(default_days(kind, P::High), 7);
        }
        assert_eq!(default_days(K::Problem, P::Normal), 15);
        assert_eq!(default_days(K::Dispute, P::Normal), 15);
        assert_eq!(default_days(K::Petition, P::Normal), 60);
        assert_eq!(default_days(K::Suggestion, P::Normal), 30);
        assert_eq!(default_days(K::Petition, P::Unspecified), 60);
        assert_eq!(default_days(K::Unspecified, P::Normal), 15);
    }

    #[test]
    fn no_rules_means_defaults() {
        assert_eq!(deadline_days(&[], K::Petition, "信访积案", P::Normal), 60);
    }

    #[test]
    fn most_specific_rule_wins() {
        let rules = [
            rule(K::Unspecified, "", P::Unspecified, 20),
            rule(K::Problem, "", P::Unspecified, 10),
            rule(K::Problem, "农田水利", P::Unspecified, 25),
            rule(K::Problem, "农田水利", P::High, 12),
        ];
        let d = |k, c, p| deadline_days(&rules, k, c, p);
        assert_eq!(d(K::Problem, "农田水利", P::High), 12);
        // Two-field rule beats the kind-only rule even though it is longer.
        assert_eq!(d(K::Problem, "农田水利", P::Normal), 25);
        assert_eq!(d(K::Problem, "社会治安", P::Normal), 10);
        assert_eq!(d(K::Suggestion, "农田水利", P::High), 20);
    }

    #[test]
    fn ties_go_to_the_shorter_deadline() {
        let rules = [
            rule(K::Dispute, "", P::Unspecified, 9),
            rule(K::Unspecified, "矛盾纠纷", P::Unspecified, 5),
            rule(K::Unspecified, "", P::Normal, 8),
        ];
        assert_eq!(deadline_days(&rules, K::Dispute, "矛盾纠纷", P::Normal), 5);
    }

    #[test]
    fn unspecified_priority_matches_normal_rules_and_category_is_trimmed() {
        let rules = [rule(K::Problem, " 民生工程 ", P::Normal, 11)];
        assert_eq!(
            deadline_days(&rules, K::Problem, "民生工程", P::Unspecified),
            11
        );
        // Urgent is a different priority: the rule does not apply.
        assert_eq!(deadline_days(&rules, K::Problem, "民生工程", P::Urgent), 3);
    }

    #[test]
    fn valid_rules_pass() {
        let rules = [
            rule(K::Problem, "", P::Unspecified, 1),
            rule(K::Problem, "城镇建设", P::Unspecified, 365),
        ];
        assert!(validate_rules("rules", &rules).is_ok());
        assert!(validate_rules("rules", &[]).is_ok());
    }

    fn violations(rules: &[SlaRule]) -> Vec<(String, String)> {
        match validate_rules("rules", rules) {
            Err(ServiceError::InvalidArgument(vs)) => {
                vs.into_iter().map(|v| (v.field, v.reason)).collect()
            }
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn days_out_of_range_name_the_rule() {
        let rules = [
            rule(K::Problem, "", P::Unspecified, 0),
            rule(K::Dispute, "", P::Unspecified, 366),
        ];
        let vs = violations(&rules);
        assert_eq!(vs.len(), 2);
        assert_eq!(vs[0].0, "rules[0].days");
        assert_eq!(vs[1].0, "rules[1].days");
        assert!(vs[0].1.contains("365"));
    }

    #[test]
    fn duplicates_are_refused_even_with_padded_category() {
        let rules = [
            rule(K::Problem, "农田水利", P::High, 5),
            rule(K::Problem, " 农田水利", P::High, 6),
        ];
        let vs = violations(&rules);
        let want = "duplicates rules[0] (same kind, category and priority)";
        assert_eq!(vs, [("rules[1]".to_string(), want.to_string())]);
    }

    #[test]
    fn unknown_kind_and_priority_are_refused() {
        let mut bad = rule(K::Problem, "", P::Normal, 5);
        (bad.kind, bad.priority) = (42, -1);
        let fields: Vec<_> = violations(&[bad]).into_iter().map(|v| v.0).collect();
        assert_eq!(fields, ["rules[0].kind", "rules[0].priority"]);
    }

    #[test]
    fn second_round_is_half_rounded_up_at_least_three() {
        let halves = [(15, 8), (14, 7), (60, 30), (7, 4)];
        let floors = [(5, 3), (3, 3), (0, 3), (-4, 3)];
        for (first, second) in halves.into_iter().chain(floors) {
            assert_eq!(second_round_days(first), second, "first round {first}");
        }
        assert_eq!(second_round_days(i32::MAX), i32::MAX / 2);
    }

    #[test]
    fn deadline_after_adds_days_and_saturates() {
        assert_eq!(deadline_after(at(1, 8), 10), at(11, 8));
        assert_eq!(deadline_after(at(1, 8), -3), at(1, 8));
        assert_eq!(deadline_after(at(1, 8), i32::MAX), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn supervision_only_tightens() {
        let now = at(1, 8);
        assert_eq!(supervised_deadline(Some(at(20, 0)), now, 5), at(6, 8));
        assert_eq!(supervised_deadline(Some(at(3, 0)), now, 5), at(3, 0));
        assert_eq!(supervised_deadline(None, now, 5), at(6, 8));
        // An already-missed deadline stays missed.
        assert_eq!(supervised_deadline(Some(at(1, 0)), now, 5), at(1, 0));
    }

    #[test]
    fn thresholds() {
        let deadline = at(10, 12);
        let t = |now| threshold(now, deadline, Duration::days(2));
        assert_eq!(t(at(1, 0)), None);
        assert_eq!(t(at(8, 11)), None);
        assert_eq!(t(at(8, 12)), Some(DueSoon));
        assert_eq!(t(deadline), Some(DueSoon));
        assert_eq!(t(deadline + Duration::seconds(1)), Some(Overdue));
        assert_eq!(t(at(30, 0)), Some(Overdue));
    }

    #[test]
    fn non_positive_window_disables_due_soon_but_not_overdue() {
        let deadline = at(10, 12);
        assert_eq!(threshold(deadline, deadline, Duration::zero()), None);
        assert_eq!(threshold(at(9, 0), deadline, Duration::days(-1)), None);
        assert_eq!(
            threshold(at(11, 0), deadline, Duration::zero()),
            Some(Overdue)
        );
        // A huge window does not panic.
        assert_eq!(threshold(at(1, 0), deadline, Duration::MAX), Some(DueSoon));
        assert_eq!(DueSoon.as_str(), "due_soon");
        assert_eq!(Overdue.as_str(), "overdue");
    }

    #[test]
    fn priority_climbs_and_stops_at_urgent() {
        assert_eq!(priority_raised(P::Unspecified), P::High);
        assert_eq!(priority_raised(P::Normal), P::High);
        assert_eq!(priority_raised(P::High), P::Urgent);
        assert_eq!(priority_raised(P::Urgent), P::Urgent);
    }
}
