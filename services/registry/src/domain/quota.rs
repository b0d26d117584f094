//! Quota arithmetic (任务指标): which of a campaign's quotas apply to a
//! cadre's position, and how far their recorded visits meet them.
use std::collections::HashSet;

use zoufang_proto::registry::v1::{Quota, QuotaMetric, QuotaProgress};
use zoufang_runtime::{ServiceError, ServiceResult};

/// What a cadre has done in a campaign (disputed visits excluded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CadreActuals {
    pub visits: i64,
    pub households_visited: i64,
    pub overnight_stays: i64,
    pub key_households_visited: i64,
    /// Total help (cash + goods, fen) per household helped.
    pub help_per_household_fen: Vec<i64>,
}

/// The quotas that apply to `position`: position-specific ones, plus
/// everyone's (empty position) for metrics the position has no quota of.
pub fn applicable_quotas(quotas: &[Quota], position: &str) -> Vec<Quota> {
    let specific: Vec<&Quota> = quotas
        .iter()
        .filter(|q| !q.position.is_empty() && q.position == position)
        .collect();
    let mut out: Vec<Quota> = specific.iter().map(|q| (*q).clone()).collect();
    for q in quotas.iter().filter(|q| q.position.is_empty()) {
        if !specific.iter().any(|s| s.metric == q.metric) {
            out.push(q.clone());
        }
    }
    out.sort_by_key(|q| q.metric);
    out
}

/// Progress against each applicable quota.
pub fn evaluate(quotas: &[Quota], position: &str, actuals: &CadreActuals) -> Vec<QuotaProgress> {
    applicable_quotas(quotas, position)
        .into_iter()
        .map(|q| {
            let actual = match QuotaMetric::try_from(q.metric).unwrap_or(QuotaMetric::Unspecified) {
                QuotaMetric::HouseholdsVisited => actuals.households_visited,
                QuotaMetric::OvernightStays => actuals.overnight_stays,
                QuotaMetric::KeyHouseholdsVisited => actuals.key_households_visited,
                QuotaMetric::HouseholdsHelped => actuals
                    .help_per_household_fen
                    .iter()
                    .filter(|&&f| f > 0 && f >= q.min_amount_fen)
                    .count() as i64,
                QuotaMetric::Visits => actuals.visits,
                QuotaMetric::Unspecified => 0,
            };
            QuotaProgress {
                metric: q.metric,
                target: q.target,
                actual,
                met: actual >= q.target,
            }
        })
        .collect()
}

/// Coverage in basis points (10000 = 100%), rounded down and capped.
pub fn coverage_bp(visited: i64, total: i64) -> i32 {
    if total <= 0 {
        return 0;
    }
    let bp = visited.max(0).saturating_mul(10_000) / total;
    i32::try_from(bp.min(10_000)).unwrap_or(10_000)
}

/// Checks a campaign's quotas, naming `quotas[i].<field>`.
pub fn validate_quotas(field: &str, quotas: &[Quota]) -> ServiceResult<()> {
    let mut seen = HashSet::new();
    for (i, q) in quotas.iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        if QuotaMetric::try_from(q.metric).unwrap_or(QuotaMetric::Unspecified)
            == QuotaMetric::Unspecified
        {
            return Err(ServiceError::invalid(
                f("metric"),
                "choose what the quota counts",
            ));
        }
        if q.target < 0 {
            return Err(ServiceError::invalid(f("target"), "cannot be negative"));
        }
        if q.min_amount_fen < 0 {
            return Err(ServiceError::invalid(
                f("min_amount_fen"),
                "cannot be negative",
            ));
        }
        if !seen.insert((q.position.trim().to_owned(), q.metric)) {
            return Err(ServiceError::invalid(
                f("metric"),
                "this position already has a quota of this metric",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(position: &str, metric: QuotaMetric, target: i64, min: i64) -> Quota {
        Quota {
            position: position.into(),
            metric: metric as i32,
            target,
            min_amount_fen: min,
        }
    }

    /// The seeds' 白鹤铺镇 work-team rules: ≥60 households, ≥10 nights,
    /// ≥5 households helped with ≥100 yuan each.
    fn seeds_quotas() -> Vec<Quota> {
        vec![
            quota("工作队员", QuotaMetric::KeyHouseholdsVisited, 60, 0),
            quota("工作队员", QuotaMetric::OvernightStays, 10, 0),
            quota("工作队员", QuotaMetric::HouseholdsHelped, 5, 10_000),
            quota("", QuotaMetric::HouseholdsVisited, 50, 0),
            quota("", QuotaMetric::OvernightStays, 2, 0),
        ]
    }

    #[test]
    fn position_quotas_override_everyones() {
        let q = applicable_quotas(&seeds_quotas(), "工作队员");
        let nights: Vec<_> = q
            .iter()
            .filter(|q| q.metric == QuotaMetric::OvernightStays as i32)
            .collect();
        assert_eq!(nights.len(), 1);
        assert_eq!(nights[0].target, 10);
        assert_eq!(q.len(), 4);
        assert_eq!(applicable_quotas(&seeds_quotas(), "村干部").len(), 2);
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
        let by = |m: QuotaMetric| *p.iter().find(|x| x.metric == m as i32).unwrap();
        assert_eq!(
            (
                by(QuotaMetric::HouseholdsHelped).actual,
                by(QuotaMetric::HouseholdsHelped).met
            ),
            (4, false)
        );
        assert_eq!(
            (
                by(QuotaMetric::OvernightStays).actual,
                by(QuotaMetric::OvernightStays).met
            ),
            (9, false)
        );
        assert!(by(QuotaMetric::KeyHouseholdsVisited).met);
        assert!(by(QuotaMetric::HouseholdsVisited).met);
    }

    #[test]
    fn coverage_in_basis_points() {
        assert_eq!(coverage_bp(420, 500), 8400);
        assert_eq!(coverage_bp(1, 3), 3333);
        assert_eq!(coverage_bp(5, 0), 0);
        assert_eq!(coverage_bp(7, 5), 10_000);
    }

    #[test]
    fn quotas_are_validated_by_field() {
        assert!(validate_quotas("quotas", &seeds_quotas()).is_ok());
        let mut q = seeds_quotas();
        q[1].target = -1;
        assert!(
            validate_quotas("quotas", &q)
                .unwrap_err()
                .to_string()
                .contains("quotas[1].target")
        );
        let mut q = seeds_quotas();
        q.push(quota("工作队员", QuotaMetric::OvernightStays, 3, 0));
        assert!(
            validate_quotas("quotas", &q)
                .unwrap_err()
                .to_string()
                .contains("quotas[5].metric")
        );
        let q = vec![quota("", QuotaMetric::Unspecified, 1, 0)];
        assert!(
            validate_quotas("quotas", &q)
                .unwrap_err()
                .to_string()
                .contains("quotas[0].metric")
        );
    }
}
