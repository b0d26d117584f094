//! What the service consumes: resolved and explained ledger items and
//! recorded visits become callback tasks when sampled. Each event is applied
//! in the transaction that records it in the inbox.
use sqlx::PgConnection;
use zoufang_bus::consumer::{EventHandler, HandlerError, IncomingEvent};
use zoufang_proto::events::v1::{IssueChanged, VisitRecorded};

use crate::{
    inputs,
    ops::{State, tasks},
};

/// The service's event handler.
#[derive(Debug, Clone)]
pub struct SupervisionEvents {
    /// Operations state.
    pub state: State,
}

impl EventHandler for SupervisionEvents {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        let env = &event.envelope;
        let created = match env.routing_key.as_str() {
            inputs::ISSUE_RESOLVED | inputs::ISSUE_EXPLAINED => {
                let issue: IssueChanged = event.decode()?;
                tasks::count_outcome(tx, env, &issue)
                    .await
                    .map_err(HandlerError::Retry)?;
                tasks::from_issue(tx, env, &issue, self.state.clock.now())
                    .await
                    .map_err(HandlerError::retry_or_park)?
            }
            inputs::ISSUE_OVERDUE => {
                let issue: IssueChanged = event.decode()?;
                tasks::count_outcome(tx, env, &issue)
                    .await
                    .map_err(HandlerError::Retry)?;
                false
            }
            inputs::VISIT_RECORDED => {
                let visit: VisitRecorded = event.decode()?;
                tasks::from_visit(tx, env, &visit, self.state.clock.now())
                    .await
                    .map_err(HandlerError::retry_or_park)?
            }
            other => {
                return Err(HandlerError::Park(anyhow::anyhow!(
                    "supervision does not handle {other}"
                )));
            }
        };
        tracing::debug!(event_id = %env.id, created, "sampled for a callback");
        Ok(())
    }
}
