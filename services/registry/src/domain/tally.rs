//! What one visit adds to (or takes back from) its village's progress
//! counters: the figures `GetRegionProgress` sums, as a signed change that
//! `store::progress` applies in the transaction of the write.
//!
//! A recorded visit counts once in every figure; a visit flagged disputed is
//! taken back from all of them (items and materials included) and counts
//! only as disputed. Whether the household's "visited" and "helped" status
//! moves is decided by the database, which alone knows the household's other
//! visits.
use std::collections::BTreeMap;

/// A signed change to one village's counters (and to its household's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Non-disputed visits: +1 recorded, -1 taken back.
    pub visits: i32,
    /// Of those, with help (cash or goods): the household's helped visits.
    pub helped_visits: i32,
    /// Visits flagged disputed.
    pub disputed_visits: i32,
    /// Visits with an overnight stay.
    pub overnight_stays: i64,
    /// Cash given, in fen.
    pub help_cash_fen: i64,
    /// Value of goods given, in fen.
    pub help_goods_value_fen: i64,
    /// Items raised.
    pub items_raised: i64,
    /// Of those, resolved on the spot.
    pub items_resolved_on_spot: i64,
    /// Visits per mode (`zoufang.common.v1.VisitMode` as a decimal string).
    pub by_mode: BTreeMap<String, i64>,
    /// Quantity handed out per material name (names never zero).
    pub materials: BTreeMap<String, i64>,
}

/// The figures of one stored visit that the counters read.
#[derive(Debug, Clone, Copy)]
pub struct VisitFigures<'a> {
    /// Visit mode.
    pub mode: i16,
    /// An overnight stay.
    pub overnight_stay: bool,
    /// Cash given, in fen.
    pub help_cash_fen: i64,
    /// Value of goods given, in fen.
    pub help_goods_value_fen: i64,
    /// The stored materials: `[{"name": …, "quantity": …}, …]`.
    pub materials: &'a serde_json::Value,
    /// Each item's `resolved_on_spot`.
    pub items_on_spot: &'a [bool],
}

impl Tally {
    /// A visit recorded (not disputed): +1 everywhere it counts.
    pub fn recorded(v: &VisitFigures<'_>) -> Tally {
        let helped = v.help_cash_fen + v.help_goods_value_fen > 0;
        Tally {
            visits: 1,
            helped_visits: i32::from(helped),
            disputed_visits: 0,
            overnight_stays: i64::from(v.overnight_stay),
            help_cash_fen: v.help_cash_fen,
            help_goods_value_fen: v.help_goods_value_fen,
            items_raised: v.items_on_spot.len() as i64,
            items_resolved_on_spot: v.items_on_spot.iter().filter(|s| **s).count() as i64,
            by_mode: BTreeMap::from([(v.mode.to_string(), 1)]),
            materials: materials_by_name(v.materials),
        }
    }

    /// A recorded visit flagged disputed: taken back from every figure, and
    /// counted as disputed.
    pub fn disputed(v: &VisitFigures<'_>) -> Tally {
        let counted = Tally::recorded(v);
        Tally {
            visits: -counted.visits,
            helped_visits: -counted.helped_visits,
            disputed_visits: 1,
            overnight_stays: -counted.overnight_stays,
            help_cash_fen: -counted.help_cash_fen,
            help_goods_value_fen: -counted.help_goods_value_fen,
            items_raised: -counted.items_raised,
            items_resolved_on_spot: -counted.items_resolved_on_spot,
            by_mode: negate(counted.by_mode),
            materials: negate(counted.materials),
        }
    }
}

/// The stored materials summed per name; names summing to zero are left out
/// (as the counters drop a name that reaches zero).
pub fn materials_by_name(materials: &serde_json::Value) -> BTreeMap<String, i64> {
    let mut named = BTreeMap::new();
    for m in materials.as_array().into_iter().flatten() {
        let name = m["name"].as_str().unwrap_or_default().to_owned();
        *named.entry(name).or_insert(0) += m["quantity"].as_i64().unwrap_or(0);
    }
    named.retain(|_, q| *q != 0);
    named
}

fn negate(map: BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    map.into_iter().map(|(k, v)| (k, -v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn figures<'a>(materials: &'a serde_json::Value, items: &'a [bool]) -> VisitFigures<'a> {
        VisitFigures {
            mode: 2,
            overnight_stay: true,
            help_cash_fen: 20_000,
            help_goods_value_fen: 0,
            materials,
            items_on_spot: items,
        }
    }

    #[test]
    fn a_recorded_visit_counts_once_everywhere() {
        let materials = json!([
            {"name": "宣传单", "quantity": 3},
            {"name": "手册", "quantity": 1},
            {"name": "宣传单", "quantity": 2}
        ]);
        let t = Tally::recorded(&figures(&materials, &[true, false]));
        assert_eq!((t.visits, t.helped_visits, t.disputed_visits), (1, 1, 0));
        assert_eq!((t.overnight_stays, t.help_cash_fen), (1, 20_000));
        assert_eq!((t.items_raised, t.items_resolved_on_spot), (2, 1));
        assert_eq!(t.by_mode, BTreeMap::from([("2".to_owned(), 1)]));
        assert_eq!(
            t.materials,
            BTreeMap::from([("宣传单".to_owned(), 5), ("手册".to_owned(), 1)])
        );
    }

    #[test]
    fn a_visit_without_help_is_not_a_helped_visit() {
        let none = json!([]);
        let mut f = figures(&none, &[]);
        f.help_cash_fen = 0;
        let t = Tally::recorded(&f);
        assert_eq!(t.helped_visits, 0);
        assert!(t.materials.is_empty());
    }

    #[test]
    fn a_disputed_visit_is_taken_back_and_counted_as_disputed() {
        let materials = json!([{"name": "手册", "quantity": 2}]);
        let f = figures(&materials, &[true]);
        let (r, d) = (Tally::recorded(&f), Tally::disputed(&f));
        assert_eq!((d.visits, d.helped_visits, d.disputed_visits), (-1, -1, 1));
        assert_eq!(d.help_cash_fen, -r.help_cash_fen);
        assert_eq!((d.items_raised, d.items_resolved_on_spot), (-1, -1));
        assert_eq!(d.by_mode, BTreeMap::from([("2".to_owned(), -1)]));
        assert_eq!(d.materials, BTreeMap::from([("手册".to_owned(), -2)]));
    }

    #[test]
    fn zero_quantities_and_odd_shapes_count_nothing() {
        assert!(materials_by_name(&json!([{"name": "x", "quantity": 0}])).is_empty());
        assert!(materials_by_name(&json!({"name": "x"})).is_empty());
    }
}
