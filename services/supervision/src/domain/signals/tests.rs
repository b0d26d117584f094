//! Unit tests of the fabrication signals and the risk score.
use super::*;
use chrono::TimeZone;

pub(super) const A: Uuid = Uuid::from_u128(0xA);
const B: Uuid = Uuid::from_u128(0xB);
/// A village in Guizhou; 0.0001° of latitude is about 11 m.
pub(super) const HOME: (f64, f64) = (26.5800, 106.7100);

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 5, h, m, 0).unwrap()
}

pub(super) fn north(km: f64) -> (f64, f64) {
    (HOME.0 + km / 111.195, HOME.1)
}

/// Visit `n` of household `n`, door to door, by `cadres`.
pub(super) fn visit(n: u128, cadres: &[Uuid], from: (u32, u32), to: (u32, u32)) -> VisitFacts {
    VisitFacts {
        visit_id: Uuid::from_u128(0x100 + n),
        cadre_ids: cadres.to_vec(),
        household_id: Uuid::from_u128(0x200 + n),
        started_at: at(from.0, from.1),
        ended_at: at(to.0, to.1),
        mode: VisitMode::DoorToDoor,
        location: None,
        photo_refs: Vec::new(),
        household_phone_hash: None,
    }
}

pub(super) fn located(mut v: VisitFacts, p: (f64, f64)) -> VisitFacts {
    v.location = Some(p);
    v
}

fn with_mode(mut v: VisitFacts, mode: VisitMode) -> VisitFacts {
    v.mode = mode;
    v
}

fn codes(v: &VisitFacts, others: &[VisitFacts]) -> Vec<&'static str> {
    signals_for(v, others, 1, &Thresholds::default())
        .iter()
        .map(Signal::code)
        .collect()
}

pub(super) fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x100 + n)
}

#[test]
fn haversine_matches_known_distances() {
    assert_eq!(haversine_km(HOME, HOME), 0.0);
    let degree = haversine_km((0.0, 0.0), (1.0, 0.0));
    assert!((degree - 111.195).abs() < 0.01, "{degree}");
    let beijing_shanghai = haversine_km((39.9042, 116.4074), (31.2304, 121.4737));
    assert!((1_060.0..1_075.0).contains(&beijing_shanghai));
    assert_eq!(
        haversine_km(HOME, north(5.0)),
        haversine_km(north(5.0), HOME)
    );
    let half_way_round = haversine_km((0.0, 0.0), (0.0, 180.0));
    assert!((half_way_round - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6);
}

#[test]
fn codes_labels_and_json_agree() {
    let o = id(9);
    let all = [
        Signal::TooShort { minutes: 3 },
        Signal::Overlapping { other_visit: o },
        Signal::SamePlace {
            other_visit: o,
            meters: 4.0,
        },
        Signal::ImpossibleTravel {
            other_visit: o,
            km: 30.0,
            kmh: 120.0,
        },
        Signal::SharedPhone { households: 5 },
        Signal::PhotoReused { other_visit: o },
    ];
    let codes: BTreeSet<_> = all.iter().map(Signal::code).collect();
    let labels: BTreeSet<_> = all.iter().map(Signal::label_zh).collect();
    assert_eq!((codes.len(), labels.len()), (6, 6));
    for s in &all {
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(json["code"], s.code());
        assert_eq!(&serde_json::from_value::<Signal>(json).unwrap(), s);
    }
    let heaviest: Vec<_> = all
        .iter()
        .filter(|s| s.weight() == MAX_SIGNAL_WEIGHT)
        .map(Signal::code)
        .collect();
    assert_eq!(heaviest, ["impossible_travel", "photo_reused"]);
    assert!(all.iter().all(|s| s.weight() <= MAX_SIGNAL_WEIGHT));
}

#[test]
fn thresholds_default_and_validate() {
    let t = Thresholds::default();
    assert_eq!(t.min_in_person_minutes, 10);
    assert_eq!((t.same_place_meters, t.max_road_kmh), (30.0, 60.0));
    assert_eq!(t.shared_phone_households, 3);
    assert!(t.validate("thresholds").is_ok());
    let bad = Thresholds {
        min_in_person_minutes: -1,
        same_place_meters: f64::NAN,
        max_road_kmh: 0.0,
        shared_phone_households: 1,
    };
    let ServiceError::InvalidArgument(vs) = bad.validate("t").unwrap_err() else {
        panic!("expected invalid argument");
    };
    let fields: Vec<_> = vs.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "t.min_in_person_minutes",
            "t.same_place_meters",
            "t.max_road_kmh",
            "t.shared_phone_households",
        ]
    );
}

#[test]
fn short_in_person_visits_are_flagged() {
    let t = Thresholds::default();
    let short = visit(1, &[A], (9, 0), (9, 5));
    assert_eq!(
        signals_for(&short, &[], 1, &t),
        [Signal::TooShort { minutes: 5 }]
    );
    for mode in [VisitMode::CaseVisit, VisitMode::LiveIn] {
        assert_eq!(codes(&with_mode(short.clone(), mode), &[]), ["too_short"]);
    }
    // A phone call or an office reception may well be short.
    for mode in [
        VisitMode::Phone,
        VisitMode::Reception,
        VisitMode::Unspecified,
    ] {
        assert!(codes(&with_mode(short.clone(), mode), &[]).is_empty());
    }
    assert!(codes(&visit(1, &[A], (9, 0), (9, 10)), &[]).is_empty());
    let mut almost = visit(1, &[A], (9, 0), (9, 10));
    almost.ended_at -= Duration::seconds(1);
    assert_eq!(
        signals_for(&almost, &[], 1, &t),
        [Signal::TooShort { minutes: 9 }]
    );
    let backwards = visit(1, &[A], (9, 30), (9, 0));
    assert_eq!(
        signals_for(&backwards, &[], 1, &t),
        [Signal::TooShort { minutes: 0 }]
    );
}

#[test]
fn one_cadre_in_two_households_at_once() {
    let v = visit(1, &[A], (9, 0), (9, 30));
    let o = visit(2, &[A], (9, 15), (9, 45));
    assert_eq!(
        signals_for(&v, std::slice::from_ref(&o), 1, &Thresholds::default()),
        [Signal::Overlapping { other_visit: id(2) }]
    );
    // Back to back is consecutive, not overlapping.
    assert!(codes(&v, &[visit(2, &[A], (9, 30), (10, 0))]).is_empty());
    // Another cadre at the same time is no sign.
    assert!(codes(&v, &[visit(2, &[B], (9, 15), (9, 45))]).is_empty());
    // A joint visit shares the cadre.
    assert_eq!(
        codes(
            &visit(1, &[B, A], (9, 0), (9, 30)),
            std::slice::from_ref(&o)
        ),
        ["overlapping"]
    );
    // Two records of one household are a duplicate, not two places.
    let mut same_home = o.clone();
    same_home.household_id = v.household_id;
    assert!(codes(&v, &[same_home]).is_empty());
    // Phone calls cannot overlap either.
    let call = |n, f, t| with_mode(visit(n, &[A], f, t), VisitMode::Phone);
    assert_eq!(
        codes(&call(1, (9, 0), (9, 20)), &[call(2, (9, 10), (9, 25))]),
        ["overlapping"]
    );
}

#[test]
fn receptions_and_live_in_stays_may_overlap() {
    let rec = |n| with_mode(visit(n, &[A], (9, 0), (11, 0)), VisitMode::Reception);
    assert!(codes(&rec(1), &[rec(2)]).is_empty());
    let stay = with_mode(visit(1, &[A], (8, 0), (20, 0)), VisitMode::LiveIn);
    let round = visit(2, &[A], (10, 0), (10, 30));
    assert!(codes(&stay, std::slice::from_ref(&round)).is_empty());
    assert!(codes(&round, &[stay]).is_empty());
    // A reception during a door-to-door visit is still two places at once.
    assert_eq!(
        codes(&visit(3, &[A], (9, 30), (10, 0)), &[rec(2)]),
        ["overlapping"]
    );
}

#[test]
fn households_recorded_from_one_spot() {
    let v = located(visit(1, &[A], (9, 0), (9, 30)), HOME);
    let near = located(visit(2, &[A], (10, 0), (10, 30)), north(0.011));
    let got = signals_for(&v, std::slice::from_ref(&near), 1, &Thresholds::default());
    let [
        Signal::SamePlace {
            other_visit,
            meters,
        },
    ] = got.as_slice()
    else {
        panic!("{got:?}");
    };
    assert_eq!(*other_visit, id(2));
    assert!((meters - 11.0).abs() < 0.1, "{meters}");
    assert!(codes(&v, &[located(near.clone(), north(0.1))]).is_empty());
    let mut same_home = near.clone();
    same_home.household_id = v.household_id;
    assert!(codes(&v, &[same_home]).is_empty());
    let mut other_cadre = near.clone();
    other_cadre.cadre_ids = vec![B];
    assert!(codes(&v, &[other_cadre]).is_empty());
    let mut unlocated = near.clone();
    unlocated.location = None;
    assert!(codes(&v, &[unlocated]).is_empty());
    // Calls made from the office share a spot honestly.
    let call = |v: &VisitFacts| with_mode(v.clone(), VisitMode::Phone);
    assert!(codes(&call(&v), &[call(&near)]).is_empty());
    assert!(codes(&v, &[call(&near)]).is_empty());
    let broken = located(visit(2, &[A], (10, 0), (10, 30)), (f64::NAN, HOME.1));
    assert!(codes(&located(v.clone(), (f64::NAN, HOME.1)), &[broken]).is_empty());
}

#[test]
fn travel_faster_than_the_road_allows() {
    let v = located(visit(1, &[A], (10, 0), (10, 30)), HOME);
    // 20 km in the 10 minutes since the previous visit: 120 km/h.
    let prev = located(visit(2, &[A], (9, 0), (9, 50)), north(20.0));
    let got = signals_for(&v, std::slice::from_ref(&prev), 1, &Thresholds::default());
    let [
        Signal::ImpossibleTravel {
            other_visit,
            km,
            kmh,
        },
    ] = got.as_slice()
    else {
        panic!("{got:?}");
    };
    assert_eq!(*other_visit, id(2));
    assert!(
        (km - 20.0).abs() < 0.01 && (kmh - 120.0).abs() < 0.1,
        "{km} {kmh}"
    );
    // The next visit counts too, and so does the other end of the pair.
    let next = located(visit(3, &[A], (10, 40), (11, 0)), north(-20.0));
    assert_eq!(
        codes(&v, std::slice::from_ref(&next)),
        ["impossible_travel"]
    );
    assert_eq!(
        codes(&next, std::slice::from_ref(&v)),
        ["impossible_travel"]
    );
    // 20 km in 30 minutes is 40 km/h: fine.
    assert!(codes(&v, &[located(visit(2, &[A], (9, 0), (9, 30)), north(20.0))]).is_empty());
    // Under 1 km is GPS noise, however short the gap.
    assert!(codes(&v, &[located(visit(2, &[A], (9, 0), (9, 59)), north(0.9))]).is_empty());
    // Another cadre's visit says nothing about this cadre's travel.
    let mut theirs = prev.clone();
    theirs.cadre_ids = vec![B];
    assert!(codes(&v, &[theirs]).is_empty());
}

#[test]
fn travel_is_checked_against_immediate_neighbours_only() {
    let v = located(visit(1, &[A], (12, 0), (12, 30)), HOME);
    let far_early = located(visit(2, &[A], (8, 0), (8, 30)), north(300.0));
    let near_prev = located(visit(3, &[A], (11, 0), (11, 50)), north(0.5));
    assert!(codes(&v, &[far_early.clone(), near_prev.clone()]).is_empty());
    // Without located visits in between, the far one is the neighbour.
    let mut unlocated = near_prev.clone();
    unlocated.location = None;
    assert_eq!(
        codes(&v, &[far_early.clone(), unlocated]),
        ["impossible_travel"]
    );
    // A phone call's location is not where the cadre travelled.
    let call = with_mode(near_prev.clone(), VisitMode::Phone);
    assert_eq!(codes(&v, &[far_early.clone(), call]), ["impossible_travel"]);
    assert!(codes(&with_mode(v.clone(), VisitMode::Phone), &[far_early]).is_empty());
}

#[test]
fn joint_visits_check_each_cadres_neighbours() {
    let v = located(visit(1, &[A, B], (12, 0), (12, 30)), HOME);
    let a_prev = located(visit(2, &[A], (11, 0), (11, 50)), north(0.5));
    let b_prev = located(visit(3, &[B], (10, 0), (11, 55)), north(50.0));
    let got = signals_for(&v, &[a_prev, b_prev], 1, &Thresholds::default());
    assert_eq!(got.len(), 1);
    assert!(matches!(got[0], Signal::ImpossibleTravel { other_visit, .. } if other_visit == id(3)));
}

#[test]
fn overlapping_visits_are_not_also_impossible_travel() {
    let v = located(visit(1, &[A], (10, 0), (10, 30)), HOME);
    let o = located(visit(2, &[A], (9, 30), (10, 10)), north(40.0));
    assert_eq!(codes(&v, &[o]), ["overlapping"]);
}

#[test]
fn one_phone_on_many_households() {
    let v = visit(1, &[A], (9, 0), (9, 30));
    let t = Thresholds::default();
    assert!(signals_for(&v, &[], 2, &t).is_empty());
    assert_eq!(
        signals_for(&v, &[], 4, &t),
        [Signal::SharedPhone { households: 4 }]
    );
}

#[test]
fn a_photo_attached_to_two_visits() {
    let mut v = visit(1, &[A], (9, 0), (9, 30));
    v.photo_refs = vec!["p/1.jpg".into(), " ".into(), String::new()];
    let mut o = visit(2, &[B], (15, 0), (15, 30));
    o.photo_refs = vec!["p/9.jpg".into(), " p/1.jpg".into()];
    assert_eq!(
        signals_for(&v, std::slice::from_ref(&o), 1, &Thresholds::default()),
        [Signal::PhotoReused { other_visit: id(2) }]
    );
    // Blank references are no photo at all.
    o.photo_refs = vec![String::new(), " ".into()];
    assert!(codes(&v, &[o]).is_empty());
}

#[test]
fn signals_are_deterministic_and_grouped_by_kind() {
    let mut v = located(visit(1, &[A], (10, 0), (10, 5)), HOME);
    v.photo_refs = vec!["p/1.jpg".into()];
    let mut others = vec![
        located(visit(4, &[A], (10, 10), (10, 20)), north(30.0)),
        located(visit(2, &[A], (9, 59), (10, 1)), north(0.01)),
        located(visit(3, &[A], (9, 58), (10, 2)), north(0.02)),
    ];
    others[0].photo_refs = vec!["p/1.jpg".into()];
    others[2].photo_refs = vec!["p/1.jpg".into()];
    let t = Thresholds::default();
    let got = signals_for(&v, &others, 3, &t);
    let order: Vec<_> = got.iter().map(|s| s.code()).collect();
    assert_eq!(
        order,
        [
            "too_short",
            "overlapping",
            "overlapping",
            "same_place",
            "same_place",
            "impossible_travel",
            "shared_phone",
            "photo_reused",
            "photo_reused",
        ]
    );
    // Within a kind, by the other visit's start: 3 (9:58) before 2 (9:59).
    assert_eq!(got[1], Signal::Overlapping { other_visit: id(3) });
    assert_eq!(got[2], Signal::Overlapping { other_visit: id(2) });
    assert_eq!(got[7], Signal::PhotoReused { other_visit: id(3) });
    // The caller's order, repeats and the visit itself change nothing.
    others.reverse();
    others.push(others[0].clone());
    others.push(v.clone());
    assert_eq!(signals_for(&v, &others, 3, &t), got);
}
