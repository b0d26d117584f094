//! The cadre assessment (考核): components measured 0–100 and combined by
//! configurable weights. A component with nothing to measure counts 100, so a
//! cadre is not punished for what nobody checked.
use super::backcheck::rate_bp;

/// Weights of the components (any scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    pub coverage: u32,
    pub timeliness: u32,
    pub verification: u32,
    pub backcheck: u32,
    pub satisfaction: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            coverage: 30,
            timeliness: 25,
            verification: 25,
            backcheck: 10,
            satisfaction: 10,
        }
    }
}

/// Each component, 0–100.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Components {
    pub coverage: u32,
    pub timeliness: u32,
    pub verification: u32,
    pub backcheck: u32,
    pub satisfaction: u32,
}

/// Back-check answers compared per checked visit (size, help, date).
pub const FACTS_PER_BACKCHECK: i64 = 3;

fn pct(part: i64, whole: i64) -> u32 {
    if whole <= 0 {
        100
    } else {
        rate_bp(part, whole) / 100
    }
}

/// Quota attainment: each quota's actual/target capped at 100%, averaged.
pub fn coverage(quotas: &[(i64, i64)]) -> u32 {
    let measured: Vec<u32> = quotas
        .iter()
        .filter(|(target, _)| *target > 0)
        .map(|(target, actual)| pct((*actual).min(*target), *target))
        .collect();
    if measured.is_empty() {
        return 100;
    }
    let n = u32::try_from(measured.len()).unwrap_or(u32::MAX);
    measured.iter().sum::<u32>() / n
}

/// Items resolved in time among those resolved or overdue.
pub fn timeliness(in_time: i64, late: i64, overdue: i64) -> u32 {
    pct(in_time, in_time + late + overdue)
}

/// Confirmed visits among those checked.
pub fn verification(checked: i64, not_confirmed: i64) -> u32 {
    pct(checked - not_confirmed, checked)
}

/// Consistent answers among the facts re-asked.
pub fn backcheck(checked: i64, mismatches: i64) -> u32 {
    let asked = checked * FACTS_PER_BACKCHECK;
    pct((asked - mismatches).max(0), asked)
}

/// Satisfied (满意 + 基本满意) among answered item callbacks.
pub fn satisfaction(answered: i64, satisfied: i64) -> u32 {
    pct(satisfied, answered)
}

/// The weighted score, 0–100 (100 when every weight is 0).
pub fn score(c: &Components, w: &Weights) -> u32 {
    let parts = [
        (c.coverage, w.coverage),
        (c.timeliness, w.timeliness),
        (c.verification, w.verification),
        (c.backcheck, w.backcheck),
        (c.satisfaction, w.satisfaction),
    ];
    let total: u64 = parts.iter().map(|(_, w)| u64::from(*w)).sum();
    if total == 0 {
        return 100;
    }
    let weighted: u64 = parts
        .iter()
        .map(|(v, w)| u64::from(*v) * u64::from(*w))
        .sum();
    u32::try_from(weighted / total).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_measure_what_was_checked() {
        assert_eq!(
            coverage(&[(60, 30), (10, 10), (5, 7)]),
            (50 + 100 + 100) / 3
        );
        assert_eq!(coverage(&[]), 100);
        assert_eq!(timeliness(3, 1, 0), 75);
        assert_eq!(timeliness(0, 0, 0), 100);
        assert_eq!(verification(4, 1), 75);
        assert_eq!(verification(1, 1), 0);
        assert_eq!(backcheck(1, 2), 33);
        assert_eq!(satisfaction(2, 1), 50);
    }

    #[test]
    fn the_score_is_the_weighted_mean() {
        let c = Components {
            coverage: 50,
            timeliness: 100,
            verification: 0,
            backcheck: 100,
            satisfaction: 100,
        };
        assert_eq!(score(&c, &Weights::default()), 60);
        let only_verification = Weights {
            coverage: 0,
            timeliness: 0,
            verification: 1,
            backcheck: 0,
            satisfaction: 0,
        };
        assert_eq!(score(&c, &only_verification), 0);
        let none = Weights {
            coverage: 0,
            timeliness: 0,
            verification: 0,
            backcheck: 0,
            satisfaction: 0,
        };
        assert_eq!(score(&c, &none), 100);
    }
}
