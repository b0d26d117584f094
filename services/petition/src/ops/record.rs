//! Recording a change, in the transaction that made it: the log line, the
//! `petition.case.*` event (outbox) and the answer to the source system.
use sqlx::PgConnection;
use zoufang_bus::outbox::{self, NewEvent};

use super::{At, reply_id, view};
use crate::{
    domain::change::Change,
    store::{self, cases::CaseRow, replies::ReplyRow},
};

/// Records `change` of `row` (as saved) by `actor`, made `at`.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn record(
    tx: &mut PgConnection,
    row: &CaseRow,
    change: Change,
    actor: &str,
    extras: &view::Extras,
    at: At,
) -> sqlx::Result<()> {
    let now = at.case;
    store::cases::log(tx, row, now, actor, change.name(), &extras.note).await?;
    outbox::enqueue(
        tx,
        // The key of the change the payload carries (the consumers check
        // that the two agree).
        NewEvent::under(
            change.routing_key(),
            &view::event(row, change, extras),
            &row.region_code,
            format!("petition-cases/{}", row.case_id),
        ),
    )
    .await?;
    if change.answered_back() {
        let id = reply_id(row.case_id, change.name(), row.version);
        let mut body = view::answer(row, change, &extras.note, now);
        body["reply_id"] = serde_json::json!(id);
        store::replies::enqueue(
            tx,
            &ReplyRow {
                county: row.county.clone(),
                reply_id: id,
                case_id: row.case_id,
                source_system: row.source_system.clone(),
                change: change.name().to_owned(),
                body,
                state: "pending".into(),
                attempts: 0,
                // Delivery runs on wall-clock time, whatever the case's clock says.
                next_at: at.wall,
                last_error: String::new(),
                created_at: now,
                sent_at: None,
            },
        )
        .await?;
    }
    Ok(())
}
