//! The back-check: a visit callback re-asks a few facts the diary recorded
//! and counts the answers that contradict it. Residents remember roughly, so
//! each comparison has a tolerance.
use chrono::NaiveDate;

/// Facts as recorded in the diary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    pub member_count: Option<i32>,
    pub help_fen: Option<i64>,
    pub visit_date: Option<NaiveDate>,
}

/// Facts as the resident tells them (None: not asked).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answered {
    pub member_count: Option<i32>,
    pub help_fen: Option<i64>,
    pub visit_date: Option<NaiveDate>,
}

/// Days a remembered visit date may be off.
pub const DATE_TOLERANCE_DAYS: i64 = 3;
/// Help amounts may differ by this many fen (50 yuan) …
pub const HELP_TOLERANCE_FEN: i64 = 5_000;
/// … or by this share of the recorded amount, whichever is larger (basis points).
pub const HELP_TOLERANCE_BP: i64 = 1_000;

/// Which answered facts contradict the record: `member_count`, `help`, `visit_date`.
pub fn mismatches(recorded: &Recorded, answered: &Answered) -> Vec<&'static str> {
    let mut out = Vec::new();
    if let (Some(r), Some(a)) = (recorded.member_count, answered.member_count)
        && r != a
    {
        out.push("member_count");
    }
    if let (Some(r), Some(a)) = (recorded.help_fen, answered.help_fen) {
        let tolerance = HELP_TOLERANCE_FEN.max(r.abs() * HELP_TOLERANCE_BP / 10_000);
        if (r - a).abs() > tolerance {
            out.push("help");
        }
    }
    if let (Some(r), Some(a)) = (recorded.visit_date, answered.visit_date)
        && (r - a).num_days().abs() > DATE_TOLERANCE_DAYS
    {
        out.push("visit_date");
    }
    out
}

/// A rate in basis points, 0 when there is nothing to divide.
pub fn rate_bp(part: i64, whole: i64) -> u32 {
    if whole <= 0 {
        return 0;
    }
    u32::try_from((part.max(0) * 10_000 / whole).min(10_000)).unwrap_or(10_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    #[test]
    fn matching_answers_within_tolerance_are_fine() {
        let r = Recorded {
            member_count: Some(4),
            help_fen: Some(20_000),
            visit_date: date("2026-11-20"),
        };
        let a = Answered {
            member_count: Some(4),
            help_fen: Some(17_000),
            visit_date: date("2026-11-22"),
        };
        assert!(mismatches(&r, &a).is_empty());
    }

    #[test]
    fn contradictions_are_named() {
        let r = Recorded {
            member_count: Some(4),
            help_fen: Some(20_000),
            visit_date: date("2026-11-20"),
        };
        let a = Answered {
            member_count: Some(2),
            help_fen: Some(0),
            visit_date: date("2026-11-01"),
        };
        assert_eq!(
            mismatches(&r, &a),
            vec!["member_count", "help", "visit_date"]
        );
    }

    #[test]
    fn large_amounts_get_a_proportional_tolerance() {
        let r = Recorded {
            help_fen: Some(1_000_000),
            ..Default::default()
        };
        assert!(
            mismatches(
                &r,
                &Answered {
                    help_fen: Some(920_000),
                    ..Default::default()
                }
            )
            .is_empty()
        );
        assert_eq!(
            mismatches(
                &r,
                &Answered {
                    help_fen: Some(800_000),
                    ..Default::default()
                }
            ),
            vec!["help"]
        );
    }

    #[test]
    fn unasked_facts_are_not_compared() {
        let r = Recorded {
            member_count: Some(4),
            help_fen: Some(1),
            visit_date: date("2026-11-20"),
        };
        assert!(mismatches(&r, &Answered::default()).is_empty());
    }

    #[test]
    fn rates() {
        assert_eq!(rate_bp(1, 3), 3333);
        assert_eq!(rate_bp(0, 0), 0);
        assert_eq!(rate_bp(5, 4), 10_000);
    }
}
