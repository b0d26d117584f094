//! Fabrication signals read from the records themselves, before and without
//! any callback: implausibly short visits, one cadre in two places at once or
//! recording several households from one spot, travel faster than a rural
//! road allows, one phone number on many households, a photo reused.
//!
//! A signal is a reason to look closer, not a finding: it raises the cadre's
//! risk score, and with it the share of their visits that get verified.
//! Rules err towards staying silent where an honest record can trip them.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;
use zoufang_core::{ServiceError, ServiceResult, error::FieldViolation};
use zoufang_proto::common::v1::VisitMode;

/// The facts of one visit the signals look at, as the registry recorded them.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitFacts {
    /// The visit's id.
    pub visit_id: Uuid,
    /// Every cadre who made the visit.
    pub cadre_ids: Vec<Uuid>,
    /// The household visited.
    pub household_id: Uuid,
    /// When the visit started.
    pub started_at: DateTime<Utc>,
    /// When the visit ended.
    pub ended_at: DateTime<Utc>,
    /// How the visit was made.
    pub mode: VisitMode,
    /// Where it was recorded, WGS-84 degrees (latitude, longitude).
    pub location: Option<(f64, f64)>,
    /// References of the photos attached.
    pub photo_refs: Vec<String>,
    /// Keyed hash of the household's phone number, if it has one.
    pub household_phone_hash: Option<Vec<u8>>,
}

/// One reason a visit record looks made up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Signal {
    /// An in-person visit shorter than the minimum.
    TooShort {
        /// Its length in whole minutes.
        minutes: i64,
    },
    /// The same cadre was recorded at another household at the same time.
    Overlapping {
        /// The other visit.
        other_visit: Uuid,
    },
    /// The same cadre recorded another household from (nearly) the same spot.
    SamePlace {
        /// The other visit.
        other_visit: Uuid,
        /// The distance between the two locations.
        meters: f64,
    },
    /// Getting to or from the cadre's neighbouring visit needs a speed no
    /// rural road allows.
    ImpossibleTravel {
        /// The previous or next visit.
        other_visit: Uuid,
        /// Straight-line distance between the two.
        km: f64,
        /// Speed needed in the time between them.
        kmh: f64,
    },
    /// The household's phone number is on many households, so a callback may
    /// reach whoever owns it rather than the resident.
    SharedPhone {
        /// Households carrying the same number.
        households: usize,
    },
    /// A photo attached here is attached to another visit too.
    PhotoReused {
        /// The other visit.
        other_visit: Uuid,
    },
}

impl Signal {
    /// Stable machine code, also the `code` tag of the JSON form.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::Overlapping { .. } => "overlapping",
            Self::SamePlace { .. } => "same_place",
            Self::ImpossibleTravel { .. } => "impossible_travel",
            Self::SharedPhone { .. } => "shared_phone",
            Self::PhotoReused { .. } => "photo_reused",
        }
    }

    /// Short Chinese label for supervisors' screens.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "走访时长过短",
            Self::Overlapping { .. } => "同一时段多处走访",
            Self::SamePlace { .. } => "多户同一地点",
            Self::ImpossibleTravel { .. } => "行程速度不合理",
            Self::SharedPhone { .. } => "多户共用一个电话",
            Self::PhotoReused { .. } => "照片重复使用",
        }
    }

    /// How many flagged visits one such signal counts as in [`risk_score`],
    /// in percent. Impossible travel and a reused photo are near proof that
    /// one of two records is false (physics; a photo is one moment), so they
    /// weigh most; two places at once comes next. A short visit, one spot
    /// or a shared phone each have honest explanations (nobody home,
    /// neighbouring houses, a child's number for elderly parents).
    pub fn weight(&self) -> u32 {
        match self {
            Self::TooShort { .. } | Self::SamePlace { .. } => 100,
            Self::SharedPhone { .. } => 150,
            Self::Overlapping { .. } => 200,
            Self::ImpossibleTravel { .. } | Self::PhotoReused { .. } => 300,
        }
    }
}

/// The heaviest [`Signal::weight`]: the most one flagged visit can count.
pub const MAX_SIGNAL_WEIGHT: u32 = 300;

/// Where the rules draw their lines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Shortest plausible in-person visit, in minutes.
    pub min_in_person_minutes: i64,
    /// Two different households visited from within this distance, in
    /// meters, count as visited from the same spot.
    pub same_place_meters: f64,
    /// Fastest plausible travel between visits, in km/h on rural roads.
    pub max_road_kmh: f64,
    /// Households on one phone number from which the number is suspect.
    pub shared_phone_households: usize,
}

impl Default for Thresholds {
    /// 10 minutes, 30 m, 60 km/h, 3 households.
    fn default() -> Self {
        Self {
            min_in_person_minutes: 10,
            same_place_meters: 30.0,
            max_road_kmh: 60.0,
            shared_phone_households: 3,
        }
    }
}

impl Thresholds {
    /// Checks every threshold, naming `<field>.<name>`; all violations at once.
    pub fn validate(&self, field: &str) -> ServiceResult<()> {
        let mut vs = Vec::new();
        let mut bad = |name: &str, reason: &str| {
            vs.push(FieldViolation {
                field: format!("{field}.{name}"),
                reason: reason.to_owned(),
            })
        };
        if !(0..=24 * 60).contains(&self.min_in_person_minutes) {
            bad("min_in_person_minutes", "must be between 0 and 1440");
        }
        if !(self.same_place_meters.is_finite() && self.same_place_meters >= 0.0) {
            bad("same_place_meters", "must be a distance of 0 or more");
        }
        if !(self.max_road_kmh.is_finite() && self.max_road_kmh > 0.0) {
            bad("max_road_kmh", "must be a speed above 0");
        }
        // One household alone on its number is the normal case.
        if self.shared_phone_households < 2 {
            bad("shared_phone_households", "must be at least 2");
        }
        if vs.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::InvalidArgument(vs))
        }
    }
}

/// Mean Earth radius (IUGG), in km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in km between two (latitude, longitude) points in
/// degrees. Straight-line distance understates the road, so speeds derived
/// from it are lower bounds: that keeps impossible travel on the safe side.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    // min(1) guards asin against rounding just above 1 for antipodes.
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Travel shorter than this is within GPS noise and walking distance.
const MIN_TRAVEL_KM: f64 = 1.0;

/// Modes where the cadre sits in the household's home, so length and place
/// say something about the household.
fn at_household(mode: VisitMode) -> bool {
    matches!(
        mode,
        VisitMode::DoorToDoor | VisitMode::CaseVisit | VisitMode::LiveIn
    )
}

/// Modes whose location is where the cadre physically was (a reception is at
/// an office); a phone call's location proves nothing about travel.
fn cadre_was_there(mode: VisitMode) -> bool {
    at_household(mode) || mode == VisitMode::Reception
}

/// The location if it is a real coordinate; a broken fix is no evidence.
fn located(v: &VisitFacts) -> Option<(f64, f64)> {
    v.location.filter(|(lat, lon)| {
        lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0
    })
}

fn shares_cadre(a: &VisitFacts, b: &VisitFacts) -> bool {
    a.cadre_ids.iter().any(|c| b.cadre_ids.contains(c))
}

/// Start and end, an end before the start read as a zero-length visit.
fn span(v: &VisitFacts) -> (DateTime<Utc>, DateTime<Utc>) {
    (v.started_at, v.ended_at.max(v.started_at))
}

/// Orders visits by time, the id breaking ties, so results never depend on
/// the order the caller passed them in.
fn key(v: &VisitFacts) -> (DateTime<Utc>, Uuid) {
    (v.started_at, v.visit_id)
}

fn overlapping(a: &VisitFacts, b: &VisitFacts) -> bool {
    // A reception session receives many households at once, and a cadre
    // living in (同吃同住) goes round the village during the stay: both make
    // overlapping records honest.
    let honest = (a.mode == VisitMode::Reception && b.mode == VisitMode::Reception)
        || a.mode == VisitMode::LiveIn
        || b.mode == VisitMode::LiveIn;
    let ((s1, e1), (s2, e2)) = (span(a), span(b));
    // Strict: one visit ending as the next starts is consecutive, not both.
    !honest && s1 < e2 && s2 < e1
}

/// The cadres' previous and next located visits around `visit`, per cadre
/// (a joint visit has a neighbour for each cadre), each with the signed gap.
fn neighbours<'a>(
    visit: &VisitFacts,
    others: &[&'a VisitFacts],
) -> BTreeMap<(DateTime<Utc>, Uuid), (&'a VisitFacts, Duration)> {
    let own = key(visit);
    let mut found = BTreeMap::new();
    for cadre in &visit.cadre_ids {
        let theirs = || {
            others.iter().copied().filter(|o| {
                o.cadre_ids.contains(cadre) && cadre_was_there(o.mode) && located(o).is_some()
            })
        };
        if let Some(p) = theirs().filter(|o| key(o) < own).max_by_key(|o| key(o)) {
            found.insert(key(p), (p, visit.started_at - span(p).1));
        }
        if let Some(n) = theirs().filter(|o| key(o) > own).min_by_key(|o| key(o)) {
            found.insert(key(n), (n, n.started_at - span(visit).1));
        }
    }
    found
}

/// Every signal for `visit`. `others` are the same cadres' other visits in
/// the period plus any visit sharing a photo reference (the visit itself and
/// repeats are skipped); `phone_households` is how many households carry
/// the household's phone number. Signals come grouped in [`Signal`]'s
/// declaration order, each group by the other visit's start time then id.
pub fn signals_for(
    visit: &VisitFacts,
    others: &[VisitFacts],
    phone_households: usize,
    t: &Thresholds,
) -> Vec<Signal> {
    let mut others: Vec<&VisitFacts> = others
        .iter()
        .filter(|o| o.visit_id != visit.visit_id)
        .collect();
    others.sort_by_key(|o| key(o));
    // A visit listed twice (same cadre, and a shared photo) counts once.
    let mut seen = BTreeSet::new();
    others.retain(|o| seen.insert(o.visit_id));
    let peers = || {
        others
            .iter()
            .copied()
            .filter(|o| shares_cadre(visit, o) && o.household_id != visit.household_id)
    };
    let mut out = Vec::new();

    let (start, end) = span(visit);
    if at_household(visit.mode) && end - start < Duration::minutes(t.min_in_person_minutes) {
        out.push(Signal::TooShort {
            minutes: (end - start).num_minutes(),
        });
    }
    out.extend(
        peers()
            .filter(|o| overlapping(visit, o))
            .map(|o| Signal::Overlapping {
                other_visit: o.visit_id,
            }),
    );
    if let Some(here) = located(visit).filter(|_| at_household(visit.mode)) {
        for o in peers().filter(|o| at_household(o.mode)) {
            let Some(there) = located(o) else { continue };
            let meters = haversine_km(here, there) * 1000.0;
            if meters <= t.same_place_meters {
                out.push(Signal::SamePlace {
                    other_visit: o.visit_id,
                    meters,
                });
            }
        }
    }
    if let Some(here) = located(visit).filter(|_| cadre_was_there(visit.mode)) {
        for (o, gap) in neighbours(visit, &others).into_values() {
            // Gaps of zero or less are the overlapping rule's business.
            let (Some(there), true) = (located(o), gap > Duration::zero()) else {
                continue;
            };
            let km = haversine_km(here, there);
            let kmh = km / (gap.num_milliseconds() as f64 / 3_600_000.0);
            if km >= MIN_TRAVEL_KM && kmh > t.max_road_kmh {
                out.push(Signal::ImpossibleTravel {
                    other_visit: o.visit_id,
                    km,
                    kmh,
                });
            }
        }
    }
    if phone_households >= t.shared_phone_households {
        out.push(Signal::SharedPhone {
            households: phone_households,
        });
    }
    // Blank references are "no photo", not one photo shared by all.
    let photos: BTreeSet<&str> = visit
        .photo_refs
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .collect();
    out.extend(
        others
            .iter()
            .filter(|o| o.photo_refs.iter().any(|r| photos.contains(r.trim())))
            .map(|o| Signal::PhotoReused {
                other_visit: o.visit_id,
            }),
    );
    out
}

/// A cadre's risk score, 0–100, from their `visits` in the period, how many
/// of them carry any signal, and all those signals: the weighted share of
/// flagged visits, where each signal counts as [`Signal::weight`] percent of
/// a visit (an impossible trip as three short visits). A visit counts at
/// most [`MAX_SIGNAL_WEIGHT`], so one visit overlapping many others cannot
/// alone condemn a cadre. Saturates at 100; 0 when there are no visits.
pub fn risk_score(visits: usize, flagged_visits: usize, signals: &[Signal]) -> u32 {
    let total = signals
        .iter()
        .map(|s| u64::from(s.weight()))
        .fold(0, u64::saturating_add);
    risk_from_totals(visits, flagged_visits, total)
}

/// [`risk_score`] from running totals (visits, flagged visits, summed signal
/// weights), so a service can keep the totals instead of every signal.
pub fn risk_from_totals(visits: usize, flagged_visits: usize, total_weight: u64) -> u32 {
    if visits == 0 {
        return 0;
    }
    let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let flagged = as_u64(flagged_visits.min(visits));
    let weighted = total_weight.min(flagged.saturating_mul(u64::from(MAX_SIGNAL_WEIGHT)));
    u32::try_from((weighted / as_u64(visits)).min(100)).unwrap_or(100)
}

#[cfg(test)]
mod risk_tests;
#[cfg(test)]
mod tests;
