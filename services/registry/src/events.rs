//! What the registry consumes: a callback that could not confirm a visit
//! (回访未能确认) flags the visit disputed, which counts against its cadres.
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_bus::consumer::{EventHandler, HandlerError, IncomingEvent, Inputs};
use zoufang_core::ServiceError;
use zoufang_proto::{catalogue::supervision::CALLBACK_COMPLETED, events::v1::CallbackCompleted};

use crate::{ops::visits::flag_in, store};

/// The events the registry consumes: supervisors' callback outcomes
/// (completed; an unreachable resident proves nothing about the visit).
pub fn inputs() -> Inputs {
    Inputs::new().only::<CallbackCompleted>(&[CALLBACK_COMPLETED])
}

/// The registry's event handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct RegistryEvents;

impl EventHandler for RegistryEvents {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        let outcome = match event.decode_if::<CallbackCompleted>()? {
            Some(outcome) if event.envelope.routing_key == CALLBACK_COMPLETED => outcome,
            _ => {
                return Err(HandlerError::Park(anyhow::anyhow!(
                    "the registry does not handle {}",
                    event.envelope.routing_key
                )));
            }
        };
        // Only a reached resident who denies the visit disputes it; an
        // unreachable one proves nothing either way.
        let Ok(visit_id) = Uuid::parse_str(&outcome.visit_id) else {
            return Ok(());
        };
        if !outcome.reached || outcome.visit_confirmed {
            return Ok(());
        }
        let Some(county) = store::visits::county_of(&mut *tx, visit_id).await? else {
            return Err(HandlerError::Park(anyhow::anyhow!(
                "no visit {visit_id} in the registry"
            )));
        };
        let reason = format!("回访未能确认走访：{}", outcome.comment.trim());
        let flagged_by = if outcome.supervisor_id.is_empty() {
            "supervision"
        } else {
            &outcome.supervisor_id
        };
        flag_in(tx, &county, visit_id, &reason, flagged_by)
            .await
            .map_err(|e| match e {
                ServiceError::Internal(e) => HandlerError::Retry(e),
                other => HandlerError::Park(anyhow::anyhow!("{other}")),
            })
    }
}
