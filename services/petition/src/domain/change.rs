//! The changes a case goes through: each is one `petition.case.<change>`
//! event, one log line and (except receipt and updates, which came from the
//! source) one answer pushed back to the source system.
use zoufang_proto::{catalogue::petition, events::v1::CaseChange};

/// A change of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Received,
    Updated,
    Accepted,
    NotAccepted,
    Extended,
    Replied,
    ReviewRequested,
    Reviewed,
    ReReviewRequested,
    ReReviewed,
    Returned,
    Reassigned,
    Merged,
    /// The appeal window ran out: the reply or review is final (办结).
    Finalized,
}

impl Change {
    /// The change as the events' enum.
    pub fn proto(self) -> CaseChange {
        match self {
            Self::Received => CaseChange::Received,
            Self::Updated => CaseChange::Updated,
            Self::Accepted => CaseChange::Accepted,
            Self::NotAccepted => CaseChange::NotAccepted,
            Self::Extended => CaseChange::Extended,
            Self::Replied => CaseChange::Replied,
            Self::ReviewRequested => CaseChange::ReviewRequested,
            Self::Reviewed => CaseChange::Reviewed,
            Self::ReReviewRequested => CaseChange::RereviewRequested,
            Self::ReReviewed => CaseChange::Rereviewed,
            Self::Returned => CaseChange::Returned,
            Self::Reassigned => CaseChange::Reassigned,
            Self::Merged => CaseChange::Merged,
            Self::Finalized => CaseChange::Finalized,
        }
    }

    /// The verb of the routing key and the log (`not_accepted`), from the
    /// catalogue.
    pub fn name(self) -> &'static str {
        petition::verb_of(self.proto()).unwrap_or_default()
    }

    /// `petition.case.<change>`, from the catalogue.
    pub fn routing_key(self) -> &'static str {
        petition::key_of(self.proto()).unwrap_or_default()
    }

    /// Whether the source system is told (it told us of receipt and updates).
    pub fn answered_back(self) -> bool {
        !matches!(self, Self::Received | Self::Updated)
    }

    /// 受理, 答复 … as the source system's clerks read it.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Received => "收到",
            Self::Updated => "更新",
            Self::Accepted => "受理",
            Self::NotAccepted => "不予受理",
            Self::Extended => "延期",
            Self::Replied => "答复",
            Self::ReviewRequested => "申请复查",
            Self::Reviewed => "复查决定",
            Self::ReReviewRequested => "申请复核",
            Self::ReReviewed => "复核决定",
            Self::Returned => "退单",
            Self::Reassigned => "改派",
            Self::Merged => "并单",
            Self::Finalized => "办结",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_keys_carry_the_change_name() {
        let all = [
            Change::Received,
            Change::Updated,
            Change::Accepted,
            Change::NotAccepted,
            Change::Extended,
            Change::Replied,
            Change::ReviewRequested,
            Change::Reviewed,
            Change::ReReviewRequested,
            Change::ReReviewed,
            Change::Returned,
            Change::Reassigned,
            Change::Merged,
            Change::Finalized,
        ];
        let protos: Vec<_> = all.iter().map(|c| c.proto()).collect();
        let listed: Vec<_> = petition::CHANGES.iter().map(|(c, _)| *c).collect();
        assert_eq!(protos, listed, "every change, each once");
        for c in all {
            assert_eq!(c.routing_key(), format!("{}{}", petition::PREFIX, c.name()));
            assert!(!c.name().is_empty());
            assert_eq!(
                c.answered_back(),
                !matches!(c, Change::Received | Change::Updated)
            );
        }
    }
}
