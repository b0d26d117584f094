//! The visits section of a summary (走访开展情况): households reached, visits
//! by mode, nights stayed, disputed visits and the items raised on visits.
use serde::Serialize;
use zoufang_proto::{common::v1::VisitMode, registry::v1::RegionProgress};
use zoufang_types::labels;

/// Visits made and how many households they reached (走访开展情况).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Visits {
    pub households_total: i64,
    pub households_visited: i64,
    /// Households visited / registered, basis points, truncated (the registry's figure).
    pub coverage_bp: i32,
    pub visits: i64,
    /// Every mode, in a fixed order, zeros included.
    pub by_mode: Vec<ModeVisits>,
    /// Nights cadres stayed in households (住宿).
    pub overnight_stays: i64,
    /// Visits the resident denied on callback; counted nowhere else.
    pub disputed_visits: i64,
    /// Items residents raised on these visits (the ledger also has walk-ins and hotlines).
    pub items_raised_on_visits: i64,
    pub items_resolved_on_spot_on_visits: i64,
}

/// Visits of one mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModeVisits {
    /// door_to_door, phone, reception, case_visit, live_in (other for unknown values).
    pub mode: &'static str,
    pub label: &'static str,
    pub visits: i64,
}

const MODES: [(VisitMode, &str, &str); 5] = labels::VISIT_MODES;

/// The visit figures of a progress row.
pub fn visits_of(p: &RegionProgress) -> Visits {
    let mut by_mode: Vec<ModeVisits> = MODES
        .iter()
        .map(|(mode, key, label)| ModeVisits {
            mode: key,
            label,
            visits: p
                .visits_by_mode
                .iter()
                .filter(|m| m.mode == *mode as i32)
                .map(|m| m.visits)
                .sum(),
        })
        .collect();
    let other: i64 = p
        .visits_by_mode
        .iter()
        .filter(|m| !MODES.iter().any(|(mode, ..)| m.mode == *mode as i32))
        .map(|m| m.visits)
        .sum();
    if other > 0 {
        by_mode.push(ModeVisits {
            mode: "other",
            label: "其他方式",
            visits: other,
        });
    }
    Visits {
        households_total: p.households_total,
        households_visited: p.households_visited,
        coverage_bp: p.coverage_bp,
        visits: p.visits,
        by_mode,
        overnight_stays: p.overnight_stays,
        disputed_visits: p.disputed_visits,
        items_raised_on_visits: p.items_raised,
        items_resolved_on_spot_on_visits: p.items_resolved_on_spot,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::report::figures::tests::progress;
    use zoufang_proto::registry::v1::ModeCount;

    #[test]
    fn visits_list_every_mode_in_order_and_keep_unknown_ones() {
        let p = RegionProgress {
            visits: 9,
            visits_by_mode: vec![
                ModeCount {
                    mode: VisitMode::LiveIn as i32,
                    visits: 2,
                },
                ModeCount {
                    mode: VisitMode::DoorToDoor as i32,
                    visits: 6,
                },
                ModeCount {
                    mode: 42,
                    visits: 1,
                },
            ],
            overnight_stays: 2,
            ..progress("1", 20, 7, 3500)
        };
        let v = visits_of(&p);
        let got: Vec<(&str, i64)> = v.by_mode.iter().map(|m| (m.mode, m.visits)).collect();
        assert_eq!(
            got,
            vec![
                ("door_to_door", 6),
                ("phone", 0),
                ("reception", 0),
                ("case_visit", 0),
                ("live_in", 2),
                ("other", 1)
            ]
        );
        assert_eq!(
            (v.households_visited, v.coverage_bp, v.overnight_stays),
            (7, 3500, 2)
        );
    }
}
