//! How stages and outcomes are spelt: in the database, in the contracts,
//! and in Chinese for people and source systems.
use super::clock::{Outcome, Stage};

impl Outcome {
    /// The database spelling.
    pub fn code(self) -> &'static str {
        match self {
            Self::Supported => "supported",
            Self::Explained => "explained",
            Self::NotSupported => "not_supported",
        }
    }

    /// From the database spelling.
    pub fn from_code(s: &str) -> Option<Self> {
        match s {
            "supported" => Some(Self::Supported),
            "explained" => Some(Self::Explained),
            "not_supported" => Some(Self::NotSupported),
            _ => None,
        }
    }

    /// 支持 / 解释 / 不予支持.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Supported => "支持",
            Self::Explained => "解释",
            Self::NotSupported => "不予支持",
        }
    }
}

impl Stage {
    /// The database spelling of the stage (the outcome is kept beside it).
    pub fn code(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::NotAccepted => "not_accepted",
            Self::Handling => "handling",
            Self::Replied(_) => "replied",
            Self::UnderReview => "under_review",
            Self::Reviewed(_) => "reviewed",
            Self::UnderReReview => "under_rereview",
            Self::Final(_) => "final",
            Self::Returned => "returned",
            Self::Merged => "merged",
        }
    }

    /// The outcome the stage carries, if any.
    pub fn outcome(self) -> Option<Outcome> {
        match self {
            Self::Replied(o) | Self::Reviewed(o) | Self::Final(o) => Some(o),
            _ => None,
        }
    }

    /// From the database spellings of stage and outcome.
    pub fn from_code(stage: &str, outcome: &str) -> Option<Self> {
        let with = |f: fn(Outcome) -> Stage| Outcome::from_code(outcome).map(f);
        match stage {
            "received" => Some(Self::Received),
            "not_accepted" => Some(Self::NotAccepted),
            "handling" => Some(Self::Handling),
            "replied" => with(Self::Replied),
            "under_review" => Some(Self::UnderReview),
            "reviewed" => with(Self::Reviewed),
            "under_rereview" => Some(Self::UnderReReview),
            "final" => with(Self::Final),
            "returned" => Some(Self::Returned),
            "merged" => Some(Self::Merged),
            _ => None,
        }
    }

    /// Whether nothing more happens to the case (a reply may still be appealed).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Self::NotAccepted | Self::Final(_) | Self::Returned | Self::Merged
        )
    }

    /// 待受理, 办理中 … as people read it.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Received => "待受理",
            Self::NotAccepted => "不予受理",
            Self::Handling => "办理中",
            Self::Replied(_) => "已答复",
            Self::UnderReview => "复查中",
            Self::Reviewed(_) => "已复查",
            Self::UnderReReview => "复核中",
            Self::Final(_) => "已办结",
            Self::Returned => "已退单",
            Self::Merged => "已并单",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_reads_back_from_its_codes() {
        let all = [
            Stage::Received,
            Stage::NotAccepted,
            Stage::Handling,
            Stage::Replied(Outcome::Supported),
            Stage::UnderReview,
            Stage::Reviewed(Outcome::NotSupported),
            Stage::UnderReReview,
            Stage::Final(Outcome::Explained),
            Stage::Returned,
            Stage::Merged,
        ];
        for s in all {
            let outcome = s.outcome().map(Outcome::code).unwrap_or("");
            assert_eq!(Stage::from_code(s.code(), outcome), Some(s));
        }
        assert_eq!(Stage::from_code("replied", ""), None);
        assert!(Stage::Final(Outcome::Supported).is_closed());
        assert!(!Stage::Replied(Outcome::Supported).is_closed());
    }
}
