//! What the service consumes: resolved and explained ledger items and
//! recorded visits become callback tasks when sampled. Each event is applied
//! in the transaction that records it in the inbox.
use sqlx::PgConnection;
use zoufang_bus::consumer::{EventHandler, HandlerError, IncomingEvent, known_change};
use zoufang_proto::events::v1::{IssueChange, IssueChanged, VisitRecorded};

use crate::ops::{State, tasks};

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
        let unhandled = || {
            HandlerError::Park(anyhow::anyhow!(
                "supervision does not handle {}",
                env.routing_key
            ))
        };
        let created = if let Some(issue) = event.decode_if::<IssueChanged>()? {
            let change: IssueChange = known_change(issue.change)?;
            match change {
                IssueChange::Resolved | IssueChange::Explained => {
                    tasks::count_outcome(tx, env, change, &issue)
                        .await
                        .map_err(HandlerError::Retry)?;
                    tasks::from_issue(tx, env, &issue, self.state.clock.now())
                        .await
                        .map_err(HandlerError::retry_or_park)?
                }
                IssueChange::Overdue => {
                    tasks::count_outcome(tx, env, change, &issue)
                        .await
                        .map_err(HandlerError::Retry)?;
                    false
                }
                _ => return Err(unhandled()),
            }
        } else if let Some(visit) = event.decode_if::<VisitRecorded>()? {
            tasks::from_visit(tx, env, &visit, self.state.clock.now())
                .await
                .map_err(HandlerError::retry_or_park)?
        } else {
            return Err(unhandled());
        };
        tracing::debug!(event_id = %env.id, created, "sampled for a callback");
        Ok(())
    }
}
