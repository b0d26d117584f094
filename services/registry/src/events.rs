//! What the registry consumes: a callback that could not confirm a visit
//! (回访未能确认) flags the visit disputed, which counts against its cadres.
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_bus::consumer::{EventHandler, HandlerError, IncomingEvent};
use zoufang_core::ServiceError;
use zoufang_proto::events::v1::CallbackCompleted;

use crate::{ops::visits::flag_in, store};

/// Routing key of a supervisor's callback outcome.
pub const CALLBACK_COMPLETED: &str = zoufang_proto::catalogue::supervision::CALLBACK_COMPLETED;

/// The registry's event handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct RegistryEvents;

impl EventHandler for RegistryEvents {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        if event.envelope.routing_key != CALLBACK_COMPLETED {
            return Err(HandlerError::Park(anyhow::anyhow!(
                "the registry does not handle {}",
                event.envelope.routing_key
            )));
        }
        let outcome: CallbackCompleted = event.decode()?;
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
