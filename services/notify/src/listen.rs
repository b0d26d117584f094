//! New inbox rows, announced by PostgreSQL at commit (`NOTIFY notify_inbox`),
//! fan out to this replica's inbox streams and wake its dispatcher. Listening
//! to the database rather than to our own writes means a stream on one
//! replica sees messages written by another.
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    ops::{InboxSignal, State},
    store::notifications::INBOX_CHANNEL,
};

/// Parses `<recipient_id> <notification_id>`.
pub fn parse_signal(payload: &str) -> Option<InboxSignal> {
    let (recipient, id) = payload.rsplit_once(' ')?;
    Some(InboxSignal {
        recipient_id: recipient.to_owned(),
        notification_id: Uuid::parse_str(id).ok()?,
    })
}

/// Listens until `shutdown`, reconnecting after failures.
pub async fn run(state: State, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        if let Err(e) = listen(&state, &shutdown).await {
            tracing::warn!(error = %e, "inbox listener lost its connection; reconnecting");
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn listen(state: &State, shutdown: &CancellationToken) -> anyhow::Result<()> {
    let mut listener = PgListener::connect_with(&state.pool).await?;
    listener.listen(INBOX_CHANNEL).await?;
    loop {
        let note = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            note = listener.recv() => note?,
        };
        if let Some(signal) = parse_signal(note.payload()) {
            // No stream listening is fine: nobody is connected.
            let _ = state.inbox.send(signal);
        }
        state.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_payload_and_rejects_garbage() {
        let id = Uuid::now_v7();
        let s = parse_signal(&format!("cadre 1 {id}"));
        assert_eq!(
            s,
            Some(InboxSignal {
                recipient_id: "cadre 1".into(),
                notification_id: id
            })
        );
        assert_eq!(parse_signal("nope"), None);
        assert_eq!(parse_signal("a b"), None);
    }
}
