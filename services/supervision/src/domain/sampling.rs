//! Which subjects get a callback. Deterministic: the same event id and policy
//! always decide the same way, so replaying events selects the same items.
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zoufang_proto::common::v1::ItemKind;
use zoufang_runtime::{ServiceError, ServiceResult};

/// 100% in basis points.
pub const FULL_BP: u32 = 10_000;

/// A campaign's sampling policy.
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
    /// The stored version this policy is.
    pub version: u32,
}

impl Default for SamplingPolicy {
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

impl SamplingPolicy {
    /// Checks the shares and thresholds, naming `<field>.<name>`.
    pub fn validate(&self, field: &str) -> ServiceResult<()> {
        for (name, v) in [
            ("item_share_bp", self.item_share_bp),
            ("visit_share_bp", self.visit_share_bp),
            ("high_risk_visit_share_bp", self.high_risk_visit_share_bp),
        ] {
            if v > FULL_BP {
                return Err(ServiceError::invalid(
                    format!("{field}.{name}"),
                    "is a share in basis points: at most 10000",
                ));
            }
        }
        if self.high_risk_threshold > 100 {
            return Err(ServiceError::invalid(
                format!("{field}.high_risk_threshold"),
                "is a risk score: at most 100",
            ));
        }
        if self.high_risk_visit_share_bp < self.visit_share_bp {
            return Err(ServiceError::invalid(
                format!("{field}.high_risk_visit_share_bp"),
                "high-risk cadres are checked at least as often as others",
            ));
        }
        if self.min_visits_per_cadre > 100 {
            return Err(ServiceError::invalid(
                format!("{field}.min_visits_per_cadre"),
                "is at most 100",
            ));
        }
        Ok(())
    }
}

/// A number in 0..10000 from SHA-256(salt, 0, event id): uniform, and
/// independent between decisions with different salts.
pub fn bucket(event_id: Uuid, salt: &str) -> u32 {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0]);
    h.update(event_id.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % FULL_BP
}

/// A resolved or explained item gets a callback: always when urgent, a
/// dispute or a petition; otherwise for the policy's share.
pub fn item_needs_callback(
    policy: &SamplingPolicy,
    event_id: Uuid,
    kind: ItemKind,
    urgent: bool,
) -> bool {
    urgent
        || matches!(kind, ItemKind::Dispute | ItemKind::Petition)
        || bucket(event_id, "item") < policy.item_share_bp
}

/// The share of a cadre's visits to verify given their risk score.
pub fn visit_share_bp(policy: &SamplingPolicy, cadre_risk: u32) -> u32 {
    if cadre_risk >= policy.high_risk_threshold {
        policy.high_risk_visit_share_bp
    } else {
        policy.visit_share_bp
    }
}

/// A visit gets a verification callback: for the cadre's share, or while the
/// cadre has fewer than the minimum selected in the period (so every cadre
/// is checked, however few visits they record).
pub fn visit_needs_verification(
    policy: &SamplingPolicy,
    event_id: Uuid,
    cadre_risk: u32,
    cadre_selected_in_period: u32,
) -> bool {
    cadre_selected_in_period < policy.min_visits_per_cadre
        || bucket(event_id, "visit") < visit_share_bp(policy, cadre_risk)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<Uuid> {
        (0..n)
            .map(|i| Uuid::from_u128(0x1234_5678_9abc_def0_u128.wrapping_mul(i as u128 + 1)))
            .collect()
    }

    #[test]
    fn buckets_are_deterministic_uniform_and_salted() {
        let id = Uuid::from_u128(42);
        assert_eq!(bucket(id, "item"), bucket(id, "item"));
        assert_ne!(bucket(id, "item"), bucket(id, "visit"));
        let below = ids(10_000)
            .into_iter()
            .filter(|i| bucket(*i, "item") < 2_000)
            .count();
        assert!((1_700..2_300).contains(&below), "about 20%: {below}");
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
            assert!(!item_needs_callback(&p, id, ItemKind::Problem, false));
        }
        let all = SamplingPolicy {
            item_share_bp: FULL_BP,
            ..Default::default()
        };
        assert!(ids(50).into_iter().all(|id| item_needs_callback(
            &all,
            id,
            ItemKind::Suggestion,
            false
        )));
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
    fn high_risk_cadres_are_sampled_more_and_everyone_meets_the_minimum() {
        let p = SamplingPolicy::default();
        assert_eq!(visit_share_bp(&p, 59), 1_000);
        assert_eq!(visit_share_bp(&p, 60), 5_000);
        let sample = ids(5_000);
        let low = sample
            .iter()
            .filter(|i| visit_needs_verification(&p, **i, 0, 99))
            .count();
        let high = sample
            .iter()
            .filter(|i| visit_needs_verification(&p, **i, 90, 99))
            .count();
        assert!(high > 3 * low, "high {high} vs low {low}");
        assert!(
            sample
                .iter()
                .all(|i| visit_needs_verification(&p, *i, 0, 1)),
            "below the minimum, always"
        );
    }

    #[test]
    fn policies_are_validated_by_field() {
        assert!(SamplingPolicy::default().validate("policy").is_ok());
        let e = SamplingPolicy {
            visit_share_bp: 10_001,
            ..Default::default()
        }
        .validate("policy")
        .unwrap_err();
        assert!(e.to_string().contains("policy.visit_share_bp"));
        let e = SamplingPolicy {
            high_risk_visit_share_bp: 500,
            ..Default::default()
        }
        .validate("policy")
        .unwrap_err();
        assert!(e.to_string().contains("policy.high_risk_visit_share_bp"));
        let e = SamplingPolicy {
            high_risk_threshold: 101,
            ..Default::default()
        }
        .validate("policy")
        .unwrap_err();
        assert!(e.to_string().contains("high_risk_threshold"));
    }
}
