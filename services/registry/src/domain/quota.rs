//! Quota arithmetic (任务指标): which of a campaign's quotas apply to a
//! cadre's position, how far the cadre's recorded visits meet them, and
//! coverage in basis points.
//!
//! A quota with a position applies to cadres of that position; a quota with
//! an empty position applies to everyone, unless the cadre's position has
//! its own quota of the same metric — the specific rule overrides the
//! general one (工作队员 stay 10 nights even if everyone else stays 2).
//! Positions compare trimmed, as the campaign store saves them trimmed.
use std::collections::HashSet;

use zoufang_core::ServiceResult;
use zoufang_proto::registry::v1::QuotaMetric;

use super::violations::Violations;

/// A campaign's target for cadres of a position (empty: everyone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub position: String,
    /// What is counted (`Unspecified` for a value this build does not know).
    pub metric: QuotaMetric,
    pub target: i64,
    /// For households helped: the least help (fen) that counts a household.
    pub min_amount_fen: i64,
}

/// How far a cadre meets one quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub metric: QuotaMetric,
    pub target: i64,
    pub actual: i64,
    pub met: bool,
}

/// What a cadre has done in a campaign (disputed visits excluded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CadreActuals {
    /// Visits recorded.
    pub visits: i64,
    /// Distinct households visited (走访群众户数).
    pub households_visited: i64,
    /// Nights stayed in households (住宿).
    pub overnight_stays: i64,
    /// Distinct tagged (key-group) households visited (专访重点户).
    pub key_households_visited: i64,
    /// Total help (cash + goods, fen) given to each household helped, one
    /// entry per household: the per-household minimum is applied to totals.
    pub help_per_household_fen: Vec<i64>,
}

/// The quotas that apply to `position`, ordered by metric: the position's
/// own, plus everyone's (empty position) for metrics it has none of.
pub fn applicable_quotas(quotas: &[Quota], position: &str) -> Vec<Quota> {
    let position = position.trim();
    let is_mine = |q: &&Quota| !position.is_empty() && q.position.trim() == position;
    let mine: Vec<&Quota> = quotas.iter().filter(is_mine).collect();
    let everyones = quotas
        .iter()
        .filter(|q| q.position.trim().is_empty())
        .filter(|q| !mine.iter().any(|m| m.metric == q.metric));
    let mut out: Vec<Quota> = mine.iter().copied().chain(everyones).cloned().collect();
    // Stable: quotas of one metric (which validation forbids) keep their order.
    out.sort_by_key(|q| q.metric);
    out
}

/// Progress against each quota that applies to `position`.
pub fn evaluate(quotas: &[Quota], position: &str, actuals: &CadreActuals) -> Vec<Progress> {
    applicable_quotas(quotas, position)
        .into_iter()
        .map(|q| {
            let actual = match q.metric {
                QuotaMetric::HouseholdsVisited => actuals.households_visited,
                QuotaMetric::OvernightStays => actuals.overnight_stays,
                QuotaMetric::KeyHouseholdsVisited => actuals.key_households_visited,
                // A household given nothing is not helped, even when the
                // minimum is 0.
                QuotaMetric::HouseholdsHelped => {
                    let helped = actuals
                        .help_per_household_fen
                        .iter()
                        .filter(|&&fen| fen > 0 && fen >= q.min_amount_fen)
                        .count();
                    i64::try_from(helped).unwrap_or(i64::MAX)
                }
                QuotaMetric::Visits => actuals.visits,
                QuotaMetric::Unspecified => 0,
            };
            Progress {
                metric: q.metric,
                target: q.target,
                actual,
                met: actual >= q.target,
            }
        })
        .collect()
}

/// Coverage in basis points (10000 = 100%): 0 when there is nothing to
/// cover, rounded down (99.99% is not "all"), capped at 10000.
pub fn coverage_bp(visited: i64, total: i64) -> i32 {
    if total <= 0 {
        return 0;
    }
    // i128: visited × 10000 cannot overflow, so huge inputs stay exact.
    let bp = i128::from(visited.max(0)) * 10_000 / i128::from(total);
    i32::try_from(bp.min(10_000)).unwrap_or(10_000)
}

/// Checks a campaign's quotas, reporting every violation as
/// `{field}[i].metric`, `{field}[i].target` or `{field}[i].min_amount_fen`.
pub fn validate_quotas(field: &str, quotas: &[Quota]) -> ServiceResult<()> {
    let mut v = Violations::new();
    let mut seen = HashSet::new();
    for (i, q) in quotas.iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        let m = q.metric;
        if m == QuotaMetric::Unspecified {
            v.add(f("metric"), "choose what the quota counts");
        } else if !seen.insert((q.position.trim(), m)) {
            v.add(
                f("metric"),
                "this position already has a quota of this metric",
            );
        }
        if q.target < 0 {
            v.add(f("target"), "cannot be negative");
        }
        if q.min_amount_fen < 0 {
            v.add(f("min_amount_fen"), "cannot be negative");
        } else if q.min_amount_fen > 0 && m != QuotaMetric::HouseholdsHelped {
            // Most likely meant for a households-helped quota: say so.
            let reason = "applies only to HOUSEHOLDS_HELPED quotas";
            v.add(f("min_amount_fen"), reason);
        }
    }
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use QuotaMetric::*;
    use zoufang_core::ServiceError;

    fn quota(position: &str, metric: QuotaMetric, target: i64, min: i64) -> Quota {
        Quota {
            position: position.into(),
            metric,
            target,
            min_amount_fen: min,
        }
    }

    /// The seeds' 白鹤铺镇 work-team rules: ≥60 (key) households, ≥10 nights,
    /// ≥5 households helped with ≥100 yuan each; plus rules for everyone.
    fn seeds_quotas() -> Vec<Quota> {
        vec![
            quota("工作队员", KeyHouseholdsVisited, 60, 0),
            quota("工作队员", OvernightStays, 10, 0),
            quota("工作队员", HouseholdsHelped, 5, 10_000),
            quota("", HouseholdsVisited, 50, 0),
            quota("", OvernightStays, 2, 0),
        ]
    }

    fn by(p: &[Progress], m: QuotaMetric) -> (i64, i64, bool) {
        let q = p.iter().find(|x| x.metric == m).expect("metric");
        (q.target, q.actual, q.met)
    }

    #[test]
    fn position_quotas_override_everyones() {
        let q = applicable_quotas(&seeds_quotas(), "工作队员");
        let metrics: Vec<QuotaMetric> = q.iter().map(|q| q.metric).collect();
        let expected = [
            HouseholdsVisited,
            OvernightStays,
            KeyHouseholdsVisited,
            HouseholdsHelped,
        ];
        assert_eq!(metrics, expected);
        let nights = q.iter().find(|q| q.metric == OvernightStays).unwrap();
        assert_eq!(nights.target, 10);
        // Positions compare trimmed.
        assert_eq!(applicable_quotas(&seeds_quotas(), " 工作队员 "), q);
    }

    #[test]
    fn other_positions_get_everyones_quotas_only() {
        let q = applicable_quotas(&seeds_quotas(), "村干部");
        assert_eq!(q.len(), 2);
        assert!(q.iter().all(|q| q.position.is_empty()));
        assert_eq!(applicable_quotas(&seeds_quotas(), "").len(), 2);
        assert!(applicable_quotas(&[], "工作队员").is_empty());
    }

    #[test]
    fn help_counts_only_households_at_the_minimum() {
        let actuals = CadreActuals {
            visits: 70,
            households_visited: 64,
            overnight_stays: 9,
            key_households_visited: 61,
            help_per_household_fen: vec![10_000, 20_000, 9_999, 10_000, 50_000, 0],
        };
        let p = evaluate(&seeds_quotas(), "工作队员", &actuals);
        assert_eq!(p.len(), 4);
        assert_eq!(by(&p, HouseholdsHelped), (5, 4, false));
        assert_eq!(by(&p, OvernightStays), (10, 9, false));
        assert_eq!(by(&p, KeyHouseholdsVisited), (60, 61, true));
        assert_eq!(by(&p, HouseholdsVisited), (50, 64, true));
    }

    #[test]
    fn meeting_a_target_exactly_counts() {
        let mut actuals = CadreActuals {
            overnight_stays: 10,
            key_households_visited: 60,
            help_per_household_fen: vec![10_000; 5],
            ..Default::default()
        };
        let p = evaluate(&seeds_quotas(), "工作队员", &actuals);
        assert_eq!(by(&p, HouseholdsHelped), (5, 5, true));
        assert_eq!(by(&p, OvernightStays), (10, 10, true));
        assert_eq!(by(&p, KeyHouseholdsVisited), (60, 60, true));
        assert_eq!(by(&p, HouseholdsVisited), (50, 0, false));
        // With no minimum, any help counts, but no help does not.
        actuals.help_per_household_fen = vec![1, 0, 0];
        let q = [quota("", HouseholdsHelped, 1, 0), quota("", Visits, 0, 0)];
        let p = evaluate(&q, "村干部", &actuals);
        assert_eq!(by(&p, HouseholdsHelped), (1, 1, true));
        assert_eq!(by(&p, Visits), (0, 0, true), "a zero target is met");
    }

    #[test]
    fn coverage_in_basis_points() {
        assert_eq!(coverage_bp(420, 500), 8400);
        assert_eq!(coverage_bp(1, 3), 3333);
        assert_eq!(coverage_bp(9999, 10_000), 9999);
        assert_eq!(coverage_bp(2, 3), 6666, "rounded down");
        assert_eq!(coverage_bp(5, 0), 0);
        assert_eq!(coverage_bp(0, 0), 0);
        assert_eq!(coverage_bp(7, 5), 10_000);
        assert_eq!(coverage_bp(-1, 5), 0);
        assert_eq!(coverage_bp(i64::MAX, i64::MAX), 10_000);
        assert_eq!(
            coverage_bp(i64::MAX / 2, i64::MAX),
            4999,
            "exact, then down"
        );
    }

    fn violations(q: &[Quota]) -> Vec<String> {
        match validate_quotas("quotas", q) {
            Err(ServiceError::InvalidArgument(vs)) => vs.into_iter().map(|v| v.field).collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn quotas_are_validated_by_field() {
        assert!(validate_quotas("quotas", &seeds_quotas()).is_ok());
        assert!(validate_quotas("quotas", &[]).is_ok());
        let mut q = seeds_quotas();
        q[1].target = -1;
        q[2].min_amount_fen = -1;
        q.push(quota(" 工作队员", OvernightStays, 3, 0));
        q.push(quota("", Unspecified, 1, 0));
        q.push(quota("村干部", Visits, 1, 500));
        assert_eq!(
            violations(&q),
            vec![
                "quotas[1].target",
                "quotas[2].min_amount_fen",
                "quotas[5].metric",
                "quotas[6].metric",
                "quotas[7].min_amount_fen",
            ]
        );
        let e = validate_quotas("campaign.quotas", &q[6..7])
            .unwrap_err()
            .to_string();
        assert!(e.contains("campaign.quotas[0].metric"), "{e}");
    }

    #[test]
    fn same_metric_for_different_positions_is_fine() {
        let q = [
            quota("工作队员", OvernightStays, 10, 0),
            quota("班子成员", OvernightStays, 5, 0),
            quota("", OvernightStays, 2, 0),
            quota("", HouseholdsVisited, 50, 0),
        ];
        assert!(validate_quotas("quotas", &q).is_ok());
        assert_eq!(
            violations(&[q[2].clone(), q[2].clone()]),
            vec!["quotas[1].metric"]
        );
    }
}
