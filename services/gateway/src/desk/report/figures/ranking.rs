//! The county view: the county summary with each township's ranks by
//! coverage and by 办结率 (competition ranks: 1, 2, 2, 4).
use serde::Serialize;

use super::{Row, Summary};

/// A township's place in the county view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    pub code: String,
    pub name: String,
    pub coverage_bp: i32,
    /// 1 = highest coverage; equal coverage shares a rank (1, 2, 2, 4).
    pub coverage_rank: u32,
    pub resolution_rate_bp: Option<i32>,
    /// 1 = highest 办结率; equal rates share a rank; townships that collected
    /// nothing have no rate and share the rank after every one that has.
    pub resolution_rank: u32,
}

/// The county leadership view: the county summary with one row per
/// township, and each township's ranks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountyView {
    #[serde(flatten)]
    pub summary: Summary,
    /// By coverage rank, then resolution rank, then code.
    pub ranking: Vec<Ranked>,
}

/// Competition ranks (1, 2, 2, 4) of `values`, highest first; `None`
/// values rank after every `Some` and share that rank.
pub fn competition_ranks(values: &[Option<i32>]) -> Vec<u32> {
    values
        .iter()
        .map(|v| {
            let better = values.iter().filter(|o| better_than(**o, *v)).count();
            u32::try_from(better).unwrap_or(u32::MAX - 1) + 1
        })
        .collect()
}

fn better_than(a: Option<i32>, b: Option<i32>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Each row's ranks by coverage and by 办结率, ordered by coverage rank,
/// then resolution rank, then code.
pub fn rank(rows: &[Row]) -> Vec<Ranked> {
    let coverage: Vec<Option<i32>> = rows
        .iter()
        .map(|r| Some(r.figures.visits.coverage_bp))
        .collect();
    let resolution: Vec<Option<i32>> = rows
        .iter()
        .map(|r| r.figures.ledger.resolution_rate_bp)
        .collect();
    let by_coverage = competition_ranks(&coverage);
    let by_resolution = competition_ranks(&resolution);
    let mut ranked: Vec<Ranked> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| Ranked {
            code: r.code.clone(),
            name: r.name.clone(),
            coverage_bp: r.figures.visits.coverage_bp,
            coverage_rank: by_coverage[i],
            resolution_rate_bp: r.figures.ledger.resolution_rate_bp,
            resolution_rank: by_resolution[i],
        })
        .collect();
    ranked.sort_by(|a, b| {
        (a.coverage_rank, a.resolution_rank, &a.code).cmp(&(
            b.coverage_rank,
            b.resolution_rank,
            &b.code,
        ))
    });
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::report::figures::{Answers, figures, tests::progress};
    use zoufang_proto::issues::v1::GetIssueStatisticsResponse;

    fn row(code: &str, coverage_bp: i32, collected: i64, open: i64) -> Row {
        let a = Answers {
            progress: progress(code, 10, 0, coverage_bp),
            issues: GetIssueStatisticsResponse {
                collected,
                open,
                ..Default::default()
            },
            ..Default::default()
        };
        Row {
            code: code.into(),
            name: code.into(),
            figures: figures(&a),
        }
    }

    #[test]
    fn ranks_are_shared_on_ties_and_missing_rates_come_last() {
        assert_eq!(
            competition_ranks(&[Some(5), Some(9), Some(5), None, Some(1), None]),
            vec![2, 1, 2, 5, 4, 5]
        );
        let rows = vec![
            row("430426101000", 8000, 4, 1),  // coverage 2nd, 75%
            row("430426102000", 9500, 0, 0),  // coverage 1st, no items
            row("430426103000", 8000, 10, 0), // coverage 2nd, 100%
        ];
        let ranked = rank(&rows);
        let got: Vec<(&str, u32, u32)> = ranked
            .iter()
            .map(|r| (r.code.as_str(), r.coverage_rank, r.resolution_rank))
            .collect();
        assert_eq!(
            got,
            vec![
                ("430426102000", 1, 3),
                ("430426103000", 2, 1),
                ("430426101000", 2, 2)
            ]
        );
    }
}
