//! The ledger section of a summary (民情台账): what was collected, how it
//! ended, and the items per category.
use serde::Serialize;
use zoufang_proto::issues::v1::GetIssueStatisticsResponse;

use super::rate_bp;

/// The ledger (民情台账): what was collected and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ledger {
    /// Every item collected (duplicates merged away), from visits, reception and hotlines.
    pub collected: i64,
    pub problems: i64,
    pub suggestions: i64,
    pub disputes: i64,
    pub petitions: i64,
    /// 当即解决.
    pub resolved_on_spot: i64,
    /// 限时解决, by the deadline.
    pub resolved_in_time: i64,
    pub resolved_late: i64,
    /// 上报 (ever escalated to a department).
    pub escalated: i64,
    /// 解释说明.
    pub explained: i64,
    /// Still being handled, and of those past their deadline.
    pub open: i64,
    pub overdue: i64,
    /// Resolved, verified or explained: collected − open.
    pub closed: i64,
    /// 办结率: closed / collected, basis points truncated; None when nothing was collected.
    pub resolution_rate_bp: Option<i32>,
    /// Reopened after an unsatisfied callback.
    pub reopened: i64,
    /// Confirmed by a supervisor's callback (回访核实).
    pub verified: i64,
    /// 化解矛盾纠纷 … 起，涉及 … 户.
    pub disputes_mediated: i64,
    pub dispute_households: i64,
    /// Items per category, most first.
    pub by_category: Vec<CategoryCount>,
}

/// Items of one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryCount {
    pub category: String,
    pub count: i64,
}

/// The ledger figures of a statistics answer.
pub fn ledger_of(s: &GetIssueStatisticsResponse) -> Ledger {
    let closed = (s.collected - s.open).max(0);
    Ledger {
        collected: s.collected,
        problems: s.problems,
        suggestions: s.suggestions,
        disputes: s.disputes,
        petitions: s.petitions,
        resolved_on_spot: s.resolved_on_spot,
        resolved_in_time: s.resolved_in_time,
        resolved_late: s.resolved_late,
        escalated: s.escalated,
        explained: s.explained,
        open: s.open,
        overdue: s.overdue,
        closed,
        resolution_rate_bp: rate_bp(closed, s.collected),
        reopened: s.reopened,
        verified: s.verified,
        disputes_mediated: s.disputes_mediated,
        dispute_households: s.dispute_households,
        by_category: s
            .by_category
            .iter()
            .map(|c| CategoryCount {
                category: c.category.clone(),
                count: c.count,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_proto::issues::v1::CategoryCount as Cat;

    #[test]
    fn ledger_closes_what_is_not_open() {
        let s = GetIssueStatisticsResponse {
            collected: 12,
            open: 3,
            resolved_on_spot: 5,
            disputes_mediated: 2,
            dispute_households: 5,
            by_category: vec![Cat {
                category: "民生工程".into(),
                count: 12,
            }],
            ..Default::default()
        };
        let l = ledger_of(&s);
        assert_eq!((l.closed, l.resolution_rate_bp), (9, Some(7500)));
        assert_eq!(l.by_category[0].category, "民生工程");
        let empty = ledger_of(&GetIssueStatisticsResponse::default());
        assert_eq!((empty.closed, empty.resolution_rate_bp), (0, None));
    }
}
