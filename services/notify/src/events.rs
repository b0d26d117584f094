//! What the service consumes: every event that concerns a person. Each
//! becomes facts (see `domain::rules`) written as messages and deliveries in
//! the transaction that records the event in the inbox, so a redelivered
//! event changes nothing.
use sqlx::PgConnection;
use zoufang_bus::consumer::{EventHandler, HandlerError, IncomingEvent};
use zoufang_proto::events::v1::{CallbackTask, IssueChanged, PetitionCaseChanged, VisitDisputed};

use crate::{
    domain::rules::{self, Fact},
    inputs,
    ops::{State, fanout, followups},
};

/// The service's event handler.
#[derive(Debug, Clone)]
pub struct NotifyEvents {
    /// Operations state.
    pub state: State,
}

impl NotifyEvents {
    async fn publish_all(
        &self,
        tx: &mut PgConnection,
        facts: &[Fact],
    ) -> Result<usize, HandlerError> {
        let now = self.state.clock.now();
        let mut created = 0;
        for fact in facts {
            created += fanout::publish(tx, &self.state, fact, now)
                .await
                .map_err(HandlerError::Retry)?;
        }
        Ok(created)
    }
}

impl EventHandler for NotifyEvents {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        let env = &event.envelope;
        let key = env.routing_key.as_str();
        let created = if let Some(change) = key.strip_prefix(inputs::ISSUE_PREFIX) {
            let issue: IssueChanged = event.decode()?;
            rules::known_kind(&issue)?;
            let (facts, follow) = rules::from_issue(change, &issue);
            let created = self.publish_all(tx, &facts).await?;
            followups::apply(tx, &self.state, &issue, follow)
                .await
                .map_err(HandlerError::Retry)?;
            created
        } else {
            let facts: Vec<Fact> = match key {
                inputs::CALLBACK_ASSIGNED | inputs::CALLBACK_OVERDUE => {
                    let task: CallbackTask = event.decode()?;
                    rules::from_callback(&task).into_iter().collect()
                }
                inputs::VISIT_DISPUTED => {
                    let dispute: VisitDisputed = event.decode()?;
                    vec![rules::from_dispute(&dispute)]
                }
                inputs::PETITION_RECEIVED => {
                    let case: PetitionCaseChanged = event.decode()?;
                    rules::from_petition(&case).into_iter().collect()
                }
                other => {
                    return Err(HandlerError::Park(anyhow::anyhow!(
                        "notify does not handle {other}"
                    )));
                }
            };
            self.publish_all(tx, &facts).await?
        };
        tracing::debug!(event_id = %env.id, routing_key = key, created, "notified");
        if created > 0 {
            self.state.wake.notify_one();
        }
        Ok(())
    }
}
