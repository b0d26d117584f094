//! Ending sign-in sessions everywhere: the sessions are closed in the
//! gateway's table and, in the same transaction, a `gateway.session.revoked`
//! event goes into the outbox, which every service reads to refuse the
//! sessions' tokens at once (runtime `auth::revocation`).
use chrono::{DateTime, Utc};
use uuid::Uuid;
use zoufang_bus::outbox::{self, NewEvent};
use zoufang_proto::events::v1::{RevocationReason, SessionsRevoked};

use super::store;

/// Which sessions end.
#[derive(Debug, Clone, Copy)]
pub enum Sessions {
    /// One session (sign-out, a reused refresh token).
    One(Uuid),
    /// Every session of an account but `keep` (disable, password change).
    AllOf {
        account_id: Uuid,
        keep: Option<Uuid>,
    },
}

/// Ends `sessions` of the account `user_id` (scope `scope`) at `now` and
/// announces it;
/// the ids ended (none when they were already closed: nothing is published).
pub async fn end_sessions(
    pool: &sqlx::PgPool,
    sessions: Sessions,
    user_id: &str,
    scope: &str,
    reason: RevocationReason,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Uuid>> {
    let mut tx = pool.begin().await?;
    let ended = match sessions {
        Sessions::One(id) => store::revoke(&mut *tx, id).await?,
        Sessions::AllOf { account_id, keep } => {
            store::revoke_all(&mut *tx, account_id, keep).await?
        }
    };
    if !ended.is_empty() {
        let event = SessionsRevoked {
            session_ids: ended.iter().map(Uuid::to_string).collect(),
            user_id: user_id.to_owned(),
            reason: reason as i32,
            revoked_at: Some(prost_types::Timestamp {
                seconds: now.timestamp(),
                nanos: 0,
            }),
        };
        // The outbox wants a county; an account's scope may be wider
        // (a county admin's is empty), which pads to 000000.
        outbox::enqueue(
            &mut tx,
            NewEvent::of(&event, scope, format!("users/{user_id}")),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ended)
}
