//! What the service consumes: every event that concerns a person. Each
//! becomes facts (see `domain::rules`) written as messages and deliveries in
//! the transaction that records the event in the inbox, so a redelivered
//! event changes nothing.
use sqlx::PgConnection;
use zoufang_bus::consumer::{EventHandler, HandlerError, IncomingEvent, known_change};
use zoufang_proto::events::v1::{
    CallbackTask, CallbackTaskChange, CaseChange, IssueChange, IssueChanged, PetitionCaseChanged,
    VisitDisputed,
};

use crate::{
    domain::rules::{self, Fact},
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
        let created = if let Some(issue) = event.decode_if::<IssueChanged>()? {
            let change: IssueChange = known_change(issue.change)?;
            rules::known_kind(&issue)?;
            let (facts, follow) = rules::from_issue(change, &issue);
            let created = self.publish_all(tx, &facts).await?;
            followups::apply(tx, &self.state, &issue, follow)
                .await
                .map_err(HandlerError::Retry)?;
            created
        } else {
            let facts: Vec<Fact> = if let Some(task) = event.decode_if::<CallbackTask>()? {
                let change: CallbackTaskChange = known_change(task.change)?;
                rules::from_callback(change, &task).into_iter().collect()
            } else if let Some(dispute) = event.decode_if::<VisitDisputed>()? {
                vec![rules::from_dispute(&dispute)]
            } else if let Some(case) = event.decode_if::<PetitionCaseChanged>()? {
                let change: CaseChange = known_change(case.change)?;
                rules::from_petition(change, &case).into_iter().collect()
            } else {
                return Err(HandlerError::Park(anyhow::anyhow!(
                    "notify does not handle {key}"
                )));
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
