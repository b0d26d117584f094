//! What the bridge consumes: the ledger's resolutions. When the ledger item
//! of a case is resolved the case is answered 支持 with the resolution, and
//! when it is closed with an explanation, 解释 (a case not yet accepted is
//! accepted first; a case under review gets the review's decision). Any
//! other ledger item is not the bridge's business.
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_bus::consumer::{EventHandler, HandlerError, IncomingEvent, known_change};
use zoufang_core::ServiceError;
use zoufang_proto::events::v1::{IssueChange, IssueChanged};

use crate::{
    LEDGER_FOLLOWING_PETITION,
    domain::clock::{Outcome, Stage},
    ops::{
        State,
        steps::{Step, apply},
        view,
    },
    store,
};

/// The actor of steps the ledger caused.
const LEDGER: &str = "ledger";

/// The bridge's event handler.
#[derive(Debug, Clone)]
pub struct PetitionEvents {
    pub state: State,
}

/// Whether a ledger change only follows a change of the case itself (the
/// ledger closing an item because the case was returned, answered or not
/// accepted). Such an echo is no answer: taken as one it would answer a case
/// that has meanwhile moved on — e.g. a returned work order reassigned
/// before the echo of its return arrived would be answered 解释 at once.
pub fn is_echo(changed: &IssueChanged) -> bool {
    changed.actor == LEDGER_FOLLOWING_PETITION
}

/// The steps a ledger outcome means for a case at `stage`.
pub fn steps_for(stage: Stage, outcome: Outcome, text: &str) -> Vec<Step> {
    let answer = if text.trim().is_empty() {
        format!("已{}", outcome.zh())
    } else {
        text.trim().to_owned()
    };
    match stage {
        Stage::Received => vec![
            Step::Accept {
                note: "台账办结前受理".into(),
                new_facts: false,
            },
            Step::Reply {
                outcome,
                text: answer,
            },
        ],
        Stage::Handling => vec![Step::Reply {
            outcome,
            text: answer,
        }],
        Stage::UnderReview | Stage::UnderReReview => vec![Step::Decide {
            outcome,
            text: answer,
        }],
        _ => vec![],
    }
}

fn to_handler(e: ServiceError) -> HandlerError {
    match e {
        ServiceError::Internal(e) => HandlerError::Retry(e),
        ServiceError::Aborted(m) => HandlerError::Retry(anyhow::anyhow!(m)),
        other => HandlerError::Park(anyhow::anyhow!("{other}")),
    }
}

impl EventHandler for PetitionEvents {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        let unhandled = || {
            HandlerError::Park(anyhow::anyhow!(
                "the petition bridge does not handle {}",
                event.envelope.routing_key
            ))
        };
        let Some(changed) = event.decode_if::<IssueChanged>()? else {
            return Err(unhandled());
        };
        let outcome = match known_change(changed.change)? {
            IssueChange::Resolved => Outcome::Supported,
            IssueChange::Explained => Outcome::Explained,
            _ => return Err(unhandled()),
        };
        if is_echo(&changed) {
            return Ok(());
        }
        let Ok(issue_id) = Uuid::parse_str(&changed.issue_id) else {
            return Ok(());
        };
        let Some(found) = store::cases::by_issue(&mut *tx, issue_id).await? else {
            return Ok(()); // not a petition's item
        };
        let Some(mut row) = store::cases::lock(tx, &found.county, found.case_id).await? else {
            return Ok(());
        };
        let at = self.state.at();
        for step in steps_for(view::stage_of(&row), outcome, &changed.note) {
            row = match apply(tx, row, &step, LEDGER, at).await {
                Ok(saved) => saved,
                // The clock refuses (e.g. a repeat of a final claim cannot be
                // accepted): the handler answers it by hand; nothing to retry.
                Err(ServiceError::FailedPrecondition(why)) => {
                    tracing::warn!(case_id = %found.case_id, reason = %why,
                        "the ledger closed a case item the clock does not let answer");
                    break;
                }
                Err(e) => return Err(to_handler(e)),
            };
        }
        // The dispatcher wakes on the replies trigger once this commits.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_following_the_case_is_no_answer() {
        let echo = IssueChanged {
            actor: "petition".into(),
            ..Default::default()
        };
        assert!(is_echo(&echo));
        let cadre = IssueChanged {
            actor: "0190c0de-0000-7000-8000-000000000001".into(),
            ..Default::default()
        };
        assert!(!is_echo(&cadre));
    }

    #[test]
    fn a_ledger_resolution_answers_the_case_at_its_stage() {
        let steps = steps_for(Stage::Received, Outcome::Supported, "已修好");
        assert_eq!(steps.len(), 2);
        assert!(matches!(steps[0], Step::Accept { .. }));
        assert_eq!(
            steps[1],
            Step::Reply {
                outcome: Outcome::Supported,
                text: "已修好".into()
            }
        );
        assert!(matches!(
            steps_for(Stage::UnderReview, Outcome::Explained, "")[0],
            Step::Decide { .. }
        ));
        assert!(steps_for(Stage::Replied(Outcome::Supported), Outcome::Supported, "x").is_empty());
        assert!(steps_for(Stage::Merged, Outcome::Supported, "x").is_empty());
    }
}
