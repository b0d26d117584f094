//! What the ledger consumes: recorded visits become ledger entries; callback
//! outcomes verify or reopen them. Each event is applied in the transaction
//! that records it in the inbox, so a redelivery changes nothing.
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_proto::events::v1::{CallbackCompleted, Satisfaction, VisitRecorded};
use zoufang_runtime::{
    ServiceError,
    consumer::{EventHandler, HandlerError, IncomingEvent},
};

use crate::{
    domain::state::{Action, State as IssueState},
    inputs,
    ops::{
        self, SYSTEM, State,
        lifecycle::{Actor, apply},
        transitions::reopen_in,
    },
    store,
};

/// The ledger's event handler.
#[derive(Debug, Clone)]
pub struct LedgerEvents {
    /// Operations state (pool, settings).
    pub state: State,
}

fn to_handler(e: ServiceError) -> HandlerError {
    match e {
        ServiceError::Internal(e) => HandlerError::Retry(e),
        ServiceError::Aborted(m) => HandlerError::Retry(anyhow::anyhow!(m)),
        other => HandlerError::Park(anyhow::anyhow!("{other}")),
    }
}

impl EventHandler for LedgerEvents {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        match event.envelope.routing_key.as_str() {
            inputs::VISIT_RECORDED => {
                let visit: VisitRecorded = event.decode()?;
                let created = ops::create::from_visit(tx, &visit)
                    .await
                    .map_err(HandlerError::Retry)?;
                tracing::info!(visit_id = %visit.visit_id, created, "ledger entries from a visit");
                Ok(())
            }
            inputs::CALLBACK_COMPLETED => {
                let outcome: CallbackCompleted = event.decode()?;
                self.callback(tx, &outcome).await
            }
            other => Err(HandlerError::Park(anyhow::anyhow!(
                "the ledger does not handle {other}"
            ))),
        }
    }
}

impl LedgerEvents {
    /// Satisfied and fixed → verified; unsatisfied or not fixed → reopened,
    /// back to its responsible cadre for another round.
    async fn callback(
        &self,
        tx: &mut PgConnection,
        outcome: &CallbackCompleted,
    ) -> Result<(), HandlerError> {
        let Ok(issue_id) = Uuid::parse_str(&outcome.issue_id) else {
            return Ok(()); // a visit verification: not the ledger's business
        };
        if !outcome.reached {
            return Ok(());
        }
        let Some(county) = store::issues::county_of(&mut *tx, issue_id).await? else {
            return Err(HandlerError::Retry(anyhow::anyhow!(
                "issue {issue_id} is not in the ledger yet"
            )));
        };
        let Some(row) = store::issues::get(&mut *tx, &county, issue_id).await? else {
            return Ok(());
        };
        let state = IssueState::parse(&row.state);
        let unsatisfied =
            outcome.satisfaction == Satisfaction::Unsatisfied as i32 || !outcome.fix_confirmed;
        let actor = Actor {
            name: &outcome.supervisor_id,
            expected_version: None,
        };
        let actor = if actor.name.is_empty() {
            Actor {
                name: SYSTEM,
                ..actor
            }
        } else {
            actor
        };
        match (unsatisfied, state) {
            (true, Some(IssueState::Resolved | IssueState::Explained | IssueState::Verified)) => {
                let reason = format!("回访不满意：{}", outcome.comment.trim());
                reopen_in(tx, &self.state, None, issue_id, actor, &reason)
                    .await
                    .map_err(to_handler)?;
            }
            (false, Some(IssueState::Resolved | IssueState::Explained)) => {
                let note = format!("回访确认：{}", outcome.comment.trim());
                apply(tx, None, issue_id, actor, Action::Verify, &note, |_, _| {
                    Ok(())
                })
                .await
                .map_err(to_handler)?;
            }
            _ => tracing::info!(%issue_id, state = %row.state, "callback outcome needs no change"),
        }
        Ok(())
    }
}
