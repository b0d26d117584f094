//! Which subjects get a callback. Deterministic: the same event id and policy
//! always decide the same way, so replaying events selects the same items and
//! a rerun never creates or drops a task. Nothing here reads a clock or a
//! random source for that reason.
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zoufang_core::{ServiceError, ServiceResult, error::FieldViolation};
use zoufang_proto::common::v1::ItemKind;

/// 100% in basis points.
pub const FULL_BP: u32 = 10_000;

/// Salt of the item decision; distinct from [`VISIT_SALT`] so that an event
/// picked for one decision is not thereby more likely picked for the other.
pub const ITEM_SALT: &str = "item";
/// Salt of the visit decision.
pub const VISIT_SALT: &str = "visit";

/// A campaign's sampling policy. Shares are in basis points (10000 = 100%).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplingPolicy {
    /// Share of ordinary resolved items called back (urgent, dispute and
    /// petition items always are).
    pub item_share_bp: u32,
    /// Share of a cadre's visits verified.
    pub visit_share_bp: u32,
    /// Visits verified per cadre per period at least.
    pub min_visits_per_cadre: u32,
    /// Risk score (0–100) from which a cadre counts as high-risk.
    pub high_risk_threshold: u32,
    /// Share of a high-risk cadre's visits verified.
    pub high_risk_visit_share_bp: u32,
    /// The stored version this policy is (0 for the built-in default).
    pub version: u32,
}

impl Default for SamplingPolicy {
    /// Items 20%, visits 10%, at least 2 visits per cadre per period, and
    /// half the visits of cadres whose risk score is 60 or more.
    fn default() -> Self {
        Self {
            item_share_bp: 2_000,
            visit_share_bp: 1_000,
            min_visits_per_cadre: 2,
            high_risk_threshold: 60,
            high_risk_visit_share_bp: 5_000,
            version: 0,
        }
    }
}

/// A per-cadre minimum above this would turn sampling into checking every
/// visit, which is what a share of 100% is for.
const MAX_MIN_VISITS: u32 = 100;

impl SamplingPolicy {
    /// Checks the shares and thresholds, reporting every violation at once
    /// (an admin form shows them together), each named `<field>.<name>`.
    pub fn validate(&self, field: &str) -> ServiceResult<()> {
        let mut vs = Vec::new();
        let mut bad = |name: &str, reason: &str| {
            vs.push(FieldViolation {
                field: format!("{field}.{name}"),
                reason: reason.to_owned(),
            })
        };
        for (name, v) in [
            ("item_share_bp", self.item_share_bp),
            ("visit_share_bp", self.visit_share_bp),
            ("high_risk_visit_share_bp", self.high_risk_visit_share_bp),
        ] {
            if v > FULL_BP {
                bad(name, "is a share in basis points: at most 10000");
            }
        }
        if self.high_risk_threshold > 100 {
            bad("high_risk_threshold", "is a risk score: at most 100");
        }
        // Otherwise being flagged would lower a cadre's chance of a check.
        if self.high_risk_visit_share_bp < self.visit_share_bp {
            bad(
                "high_risk_visit_share_bp",
                "high-risk cadres are checked at least as often as others",
            );
        }
        if self.min_visits_per_cadre > MAX_MIN_VISITS {
            bad("min_visits_per_cadre", "is at most 100");
        }
        if vs.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::InvalidArgument(vs))
        }
    }
}

/// A number in 0..10000 from SHA-256(salt ‖ 0x00 ‖ event id bytes): uniform,
/// reproducible on any machine, and independent between decisions with
/// different salts. The 0x00 separator keeps salts from running into the id.
///
/// The first four digest bytes reduced mod 10000 carry a bias of about
/// 2·10⁻⁶, far below anything a share can express. Changing this function
/// changes past decisions on replay, so its values are pinned by a test.
pub fn bucket(event_id: Uuid, salt: &str) -> u32 {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0]);
    h.update(event_id.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % FULL_BP
}

/// A resolved or explained item gets a callback: always when urgent, a
/// dispute or a petition (the cases where a false "resolved" hurts most);
/// otherwise, including an unspecified kind, for the policy's share.
pub fn item_needs_callback(
    policy: &SamplingPolicy,
    event_id: Uuid,
    kind: ItemKind,
    urgent: bool,
) -> bool {
    urgent
        || matches!(kind, ItemKind::Dispute | ItemKind::Petition)
        || bucket(event_id, ITEM_SALT) < policy.item_share_bp
}

/// The share of a cadre's visits to verify given their risk score (0–100):
/// the high-risk share from the threshold on, the normal share below it.
pub fn visit_share_bp(policy: &SamplingPolicy, cadre_risk: u32) -> u32 {
    if cadre_risk >= policy.high_risk_threshold {
        policy.high_risk_visit_share_bp
    } else {
        policy.visit_share_bp
    }
}

/// A visit gets a verification callback: for the cadre's share, or while the
/// cadre has fewer than the minimum selected in the period (so every cadre
/// is checked, however few visits they record). `cadre_selected_in_period`
/// counts the visits already selected before this one.
pub fn visit_needs_verification(
    policy: &SamplingPolicy,
    event_id: Uuid,
    cadre_risk: u32,
    cadre_selected_in_period: u32,
) -> bool {
    cadre_selected_in_period < policy.min_visits_per_cadre
        || bucket(event_id, VISIT_SALT) < visit_share_bp(policy, cadre_risk)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spread-out ids; SHA-256 makes their buckets uniform anyway.
    fn ids(n: usize) -> Vec<Uuid> {
        (0..n)
            .map(|i| Uuid::from_u128(0x1234_5678_9abc_def0_u128.wrapping_mul(i as u128 + 1)))
            .collect()
    }

    fn fields(e: ServiceError) -> Vec<String> {
        match e {
            ServiceError::InvalidArgument(vs) => vs.into_iter().map(|v| v.field).collect(),
            other => panic!("expected invalid argument, got {other}"),
        }
    }

    #[test]
    fn bucket_values_are_pinned_because_replays_depend_on_them() {
        // Computed independently: Python's hashlib over salt, b"\0", id bytes.
        let id = Uuid::parse_str("0190a6e0-0000-7000-8000-000000000001").unwrap();
        assert_eq!(bucket(id, ITEM_SALT), 9518);
        assert_eq!(bucket(id, VISIT_SALT), 8464);
        assert_eq!(bucket(Uuid::nil(), ""), 9432);
    }

    #[test]
    fn buckets_are_deterministic_in_range_and_uniform() {
        let id = Uuid::from_u128(42);
        assert_eq!(bucket(id, ITEM_SALT), bucket(id, ITEM_SALT));
        let sample = ids(10_000);
        assert!(sample.iter().all(|i| bucket(*i, ITEM_SALT) < FULL_BP));
        let below = sample
            .iter()
            .filter(|i| bucket(**i, ITEM_SALT) < 2_000)
            .count();
        assert!((1_800..2_200).contains(&below), "about 20%: {below}");
    }

    #[test]
    fn salts_make_decisions_independent() {
        // P(both) ≈ P(item)·P(visit) = 0.5·0.5 when the salts decorrelate.
        let sample = ids(10_000);
        let both = sample
            .iter()
            .filter(|i| bucket(**i, ITEM_SALT) < 5_000 && bucket(**i, VISIT_SALT) < 5_000)
            .count();
        assert!((2_300..2_700).contains(&both), "about 25%: {both}");
        let id = Uuid::from_u128(42);
        assert_ne!(bucket(id, ITEM_SALT), bucket(id, VISIT_SALT));
        // The separator: "ab" + id and "a" + ("b" + id) must not collide.
        assert_ne!(bucket(id, "item"), bucket(id, "item\0"));
    }

    #[test]
    fn urgent_disputes_and_petitions_are_always_called_back() {
        let p = SamplingPolicy {
            item_share_bp: 0,
            ..Default::default()
        };
        for id in ids(50) {
            assert!(item_needs_callback(&p, id, ItemKind::Dispute, false));
            assert!(item_needs_callback(&p, id, ItemKind::Petition, false));
            assert!(item_needs_callback(&p, id, ItemKind::Problem, true));
            assert!(item_needs_callback(&p, id, ItemKind::Suggestion, true));
            assert!(!item_needs_callback(&p, id, ItemKind::Problem, false));
            assert!(!item_needs_callback(&p, id, ItemKind::Unspecified, false));
        }
    }

    #[test]
    fn ordinary_items_follow_the_share() {
        let all = SamplingPolicy {
            item_share_bp: FULL_BP,
            ..Default::default()
        };
        assert!(ids(200).into_iter().all(|id| item_needs_callback(
            &all,
            id,
            ItemKind::Suggestion,
            false
        )));
        let p = SamplingPolicy::default();
        let picked = ids(10_000)
            .into_iter()
            .filter(|id| item_needs_callback(&p, *id, ItemKind::Problem, false))
            .count();
        assert!((1_800..2_200).contains(&picked), "about 20%: {picked}");
        // Exactly the ids whose item bucket falls below the share.
        for id in ids(500) {
            assert_eq!(
                item_needs_callback(&p, id, ItemKind::Problem, false),
                bucket(id, ITEM_SALT) < 2_000
            );
        }
    }

    #[test]
    fn the_same_event_decides_the_same_way() {
        let p = SamplingPolicy::default();
        for id in ids(200) {
            assert_eq!(
                item_needs_callback(&p, id, ItemKind::Problem, false),
                item_needs_callback(&p, id, ItemKind::Problem, false)
            );
            assert_eq!(
                visit_needs_verification(&p, id, 10, 5),
                visit_needs_verification(&p, id, 10, 5)
            );
        }
    }

    #[test]
    fn raising_a_share_only_adds_subjects() {
        // Monotone in the share: a policy raised mid-campaign keeps every
        // subject the old one picked.
        let low = SamplingPolicy::default();
        let high = SamplingPolicy {
            visit_share_bp: 3_000,
            ..low.clone()
        };
        for id in ids(2_000) {
            if visit_needs_verification(&low, id, 0, 99) {
                assert!(visit_needs_verification(&high, id, 0, 99));
            }
        }
    }

    #[test]
    fn the_risk_threshold_switches_the_share() {
        let p = SamplingPolicy::default();
        assert_eq!(visit_share_bp(&p, 0), 1_000);
        assert_eq!(visit_share_bp(&p, 59), 1_000);
        assert_eq!(visit_share_bp(&p, 60), 5_000);
        assert_eq!(visit_share_bp(&p, 100), 5_000);
        let sample = ids(5_000);
        let low = sample
            .iter()
            .filter(|i| visit_needs_verification(&p, **i, 0, 99))
            .count();
        let high = sample
            .iter()
            .filter(|i| visit_needs_verification(&p, **i, 90, 99))
            .count();
        assert!((400..600).contains(&low), "about 10%: {low}");
        assert!((2_300..2_700).contains(&high), "about 50%: {high}");
    }

    #[test]
    fn every_cadre_meets_the_minimum() {
        let p = SamplingPolicy {
            visit_share_bp: 0,
            high_risk_visit_share_bp: 0,
            ..Default::default()
        };
        for id in ids(200) {
            assert!(visit_needs_verification(&p, id, 0, 0));
            assert!(visit_needs_verification(&p, id, 0, 1));
            assert!(!visit_needs_verification(&p, id, 0, 2), "minimum met");
        }
        let none = SamplingPolicy {
            min_visits_per_cadre: 0,
            ..p
        };
        assert!(
            ids(200)
                .into_iter()
                .all(|id| !visit_needs_verification(&none, id, 100, 0))
        );
    }

    #[test]
    fn the_default_policy_is_valid() {
        let p = SamplingPolicy::default();
        assert!(p.validate("policy").is_ok());
        assert_eq!(
            (p.item_share_bp, p.visit_share_bp, p.min_visits_per_cadre),
            (2_000, 1_000, 2)
        );
        assert_eq!(
            (p.high_risk_threshold, p.high_risk_visit_share_bp),
            (60, 5_000)
        );
        let edges = SamplingPolicy {
            item_share_bp: FULL_BP,
            visit_share_bp: FULL_BP,
            high_risk_visit_share_bp: FULL_BP,
            high_risk_threshold: 100,
            min_visits_per_cadre: MAX_MIN_VISITS,
            version: 7,
        };
        assert!(edges.validate("policy").is_ok());
    }

    #[test]
    fn policies_are_validated_by_field() {
        let f = |p: SamplingPolicy| fields(p.validate("policy").unwrap_err());
        assert_eq!(
            f(SamplingPolicy {
                item_share_bp: 10_001,
                ..Default::default()
            }),
            ["policy.item_share_bp"]
        );
        assert_eq!(
            f(SamplingPolicy {
                high_risk_visit_share_bp: 500,
                ..Default::default()
            }),
            ["policy.high_risk_visit_share_bp"]
        );
        assert_eq!(
            f(SamplingPolicy {
                high_risk_threshold: 101,
                ..Default::default()
            }),
            ["policy.high_risk_threshold"]
        );
        assert_eq!(
            f(SamplingPolicy {
                min_visits_per_cadre: 101,
                ..Default::default()
            }),
            ["policy.min_visits_per_cadre"]
        );
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        let p = SamplingPolicy {
            visit_share_bp: 10_001,
            high_risk_visit_share_bp: 10_000,
            high_risk_threshold: 500,
            ..Default::default()
        };
        assert_eq!(
            fields(p.validate("req.policy").unwrap_err()),
            [
                "req.policy.visit_share_bp",
                "req.policy.high_risk_threshold",
                "req.policy.high_risk_visit_share_bp",
            ]
        );
    }
}
