//! A campaign's life (走访活动): planned → active → closed. Visits are
//! recorded while it is planned or active; closing it ends the campaign for
//! good (its summary is final), so a closed campaign never reopens.
use zoufang_proto::registry::v1::CampaignStatus;

/// Whether moving from `from` to `to` is allowed: `Ok(true)` when it
/// changes the status, `Ok(false)` when it already has it (a retry), and
/// the reason otherwise.
pub fn transition(from: CampaignStatus, to: CampaignStatus) -> Result<bool, String> {
    use CampaignStatus::*;
    match (from, to) {
        (_, Unspecified) => Err("must be ACTIVE or CLOSED".into()),
        (a, b) if a == b => Ok(false),
        (Planned, Active) | (Planned, Closed) | (Active, Closed) => Ok(true),
        (Closed, _) => Err("the campaign is closed; a closed campaign does not reopen".into()),
        (_, Planned) => Err("a campaign cannot go back to planned".into()),
        (Unspecified, _) => Err("the campaign has no status".into()),
        (Active, Active) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CampaignStatus::*;

    #[test]
    fn forward_only_and_retries_are_no_ops() {
        assert_eq!(transition(Planned, Active), Ok(true));
        assert_eq!(transition(Planned, Closed), Ok(true));
        assert_eq!(transition(Active, Closed), Ok(true));
        assert_eq!(transition(Active, Active), Ok(false));
        assert_eq!(transition(Closed, Closed), Ok(false));
        assert!(transition(Closed, Active).is_err());
        assert!(transition(Active, Planned).is_err());
        assert!(transition(Active, Unspecified).is_err());
    }
}
