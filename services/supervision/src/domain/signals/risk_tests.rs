//! Unit tests of the risk score, on hand-made signal lists and on whole days
//! of visits run through the rules.
use super::tests::{A, HOME, id, located, north, visit};
use super::*;

#[test]
fn risk_is_the_weighted_share_of_flagged_visits() {
    let short = Signal::TooShort { minutes: 3 };
    let travel = Signal::ImpossibleTravel {
        other_visit: id(1),
        km: 9.0,
        kmh: 90.0,
    };
    assert_eq!(risk_score(0, 0, &[]), 0);
    assert_eq!(risk_score(0, 3, std::slice::from_ref(&travel)), 0);
    assert_eq!(risk_score(10, 0, &[]), 0);
    assert_eq!(risk_score(10, 1, std::slice::from_ref(&short)), 10);
    assert_eq!(risk_score(3, 1, std::slice::from_ref(&short)), 33);
    // One impossible trip flags both ends: 2 × 300% of a visit in 10.
    assert_eq!(risk_score(10, 2, &[travel.clone(), travel.clone()]), 60);
    assert_eq!(risk_score(50, 2, &[travel.clone(), travel.clone()]), 12);
    assert_eq!(risk_score(4, 4, &vec![short.clone(); 4]), 100);
}

#[test]
fn risk_is_capped_per_flagged_visit_and_saturates() {
    let overlap = Signal::Overlapping { other_visit: id(1) };
    // One visit overlapping ten others counts as one heavy visit.
    assert_eq!(risk_score(20, 1, &vec![overlap.clone(); 10]), 15);
    assert_eq!(risk_score(2, 2, &vec![overlap.clone(); 10]), 100);
    // More flagged visits than visits is read as all of them.
    assert_eq!(risk_score(1, 5, std::slice::from_ref(&overlap)), 100);
    assert_eq!(risk_score(usize::MAX, usize::MAX, &[overlap]), 0);
    let many = vec![Signal::PhotoReused { other_visit: id(1) }; 1_000];
    assert_eq!(risk_score(usize::MAX, usize::MAX, &many), 0);
    assert_eq!(risk_score(10, 10, &many), 100);
}

#[test]
fn a_day_made_up_at_the_office_scores_high() {
    // Six "door-to-door" visits, five minutes each, all from one spot.
    let day: Vec<_> = (0..6)
        .map(|i| {
            located(
                visit(i, &[A], (9, (i * 6) as u32), (9, (i * 6 + 5) as u32)),
                HOME,
            )
        })
        .collect();
    let t = Thresholds::default();
    let all: Vec<Signal> = day
        .iter()
        .flat_map(|v| signals_for(v, &day, 1, &t))
        .collect();
    assert_eq!(all.iter().filter(|s| s.code() == "too_short").count(), 6);
    assert_eq!(all.iter().filter(|s| s.code() == "same_place").count(), 30);
    assert_eq!(risk_score(day.len(), day.len(), &all), 100);
    // An honest day with the same cadre scores 0.
    let honest: Vec<_> = (0..4)
        .map(|i| {
            let h = 9 + 2 * i as u32;
            located(visit(i, &[A], (h, 0), (h, 40)), north(3.0 * i as f64))
        })
        .collect();
    let none: Vec<Signal> = honest
        .iter()
        .flat_map(|v| signals_for(v, &honest, 1, &t))
        .collect();
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(risk_score(honest.len(), 0, &none), 0);
}
