//! The changes a case goes through: each is one `petition.case.<change>`
//! event, one log line and (except receipt and updates, which came from the
//! source) one answer pushed back to the source system.

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
    /// The verb of the routing key and the log.
    pub fn name(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Updated => "updated",
            Self::Accepted => "accepted",
            Self::NotAccepted => "not_accepted",
            Self::Extended => "extended",
            Self::Replied => "replied",
            Self::ReviewRequested => "review_requested",
            Self::Reviewed => "reviewed",
            Self::ReReviewRequested => "rereview_requested",
            Self::ReReviewed => "rereviewed",
            Self::Returned => "returned",
            Self::Reassigned => "reassigned",
            Self::Merged => "merged",
            Self::Finalized => "finalized",
        }
    }

    /// `petition.case.<change>`.
    pub fn routing_key(self) -> &'static str {
        match self {
            Self::Received => zoufang_proto::catalogue::petition::RECEIVED,
            Self::Updated => zoufang_proto::catalogue::petition::UPDATED,
            Self::Accepted => zoufang_proto::catalogue::petition::ACCEPTED,
            Self::NotAccepted => zoufang_proto::catalogue::petition::NOT_ACCEPTED,
            Self::Extended => zoufang_proto::catalogue::petition::EXTENDED,
            Self::Replied => zoufang_proto::catalogue::petition::REPLIED,
            Self::ReviewRequested => zoufang_proto::catalogue::petition::REVIEW_REQUESTED,
            Self::Reviewed => zoufang_proto::catalogue::petition::REVIEWED,
            Self::ReReviewRequested => zoufang_proto::catalogue::petition::REREVIEW_REQUESTED,
            Self::ReReviewed => zoufang_proto::catalogue::petition::REREVIEWED,
            Self::Returned => zoufang_proto::catalogue::petition::RETURNED,
            Self::Reassigned => zoufang_proto::catalogue::petition::REASSIGNED,
            Self::Merged => zoufang_proto::catalogue::petition::MERGED,
            Self::Finalized => zoufang_proto::catalogue::petition::FINALIZED,
        }
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
        for c in [
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
        ] {
            assert_eq!(c.routing_key(), format!("petition.case.{}", c.name()));
            assert_eq!(
                c.answered_back(),
                !matches!(c, Change::Received | Change::Updated)
            );
        }
    }
}
