//! Retention (保留期) of the runtime's bookkeeping tables, which otherwise
//! grow with every event for ever: a province-wide campaign writes about
//! four outbox rows and as many inbox rows per visit (150M of each at 30M
//! visits).
//!
//! - **Outbox**: a row is kept after it was published for `outbox` (default
//!   7 days) — long enough to look at what was sent when something went
//!   wrong — then deleted. Unpublished rows are never deleted, however old:
//!   they are work not done yet.
//! - **Inbox**: an applied event's id is kept for `inbox` (default 30 days)
//!   and then forgotten. The inbox only has to outlive redeliveries: the
//!   consumer's retries end within a minute, and a relay publishes again
//!   only events it had not marked (within seconds of the first copy, which
//!   the queue then holds in order behind it). A copy arriving after the
//!   window would be applied twice, so the window is never shorter than a
//!   day ([`RetentionConfig::validate`]).
//!
//! Each service runs one sweep ([`run`]); deletes go in batches of
//! `batch` rows, each its own short transaction, so a sweep never holds
//! locks for long or blocks the relay, whose pending rows it never touches.
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub use zoufang_core::config::{MIN_INBOX, RetentionConfig};

/// Rows one sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub outbox: u64,
    pub inbox: u64,
}

/// Published outbox rows older than the window, a batch at a time, through
/// `outbox_created` (the oldest first).
const DELETE_OUTBOX: &str = "DELETE FROM outbox WHERE (county, seq) IN (
        SELECT county, seq FROM outbox
         WHERE created_at < now() - make_interval(secs => $1)
           AND published_at IS NOT NULL
         ORDER BY created_at
         LIMIT $2)";

/// Inbox ids older than the window, a batch at a time, through
/// `inbox_received`.
const DELETE_INBOX: &str = "DELETE FROM inbox WHERE (county, event_id) IN (
        SELECT county, event_id FROM inbox
         WHERE received_at < now() - make_interval(secs => $1)
         ORDER BY received_at
         LIMIT $2)";

/// Deletes everything past its window, batch after batch until a batch
/// comes back short, and returns how many rows went.
pub async fn sweep(pool: &PgPool, config: &RetentionConfig) -> sqlx::Result<Swept> {
    Ok(Swept {
        outbox: delete_in_batches(pool, DELETE_OUTBOX, config.outbox, config.batch).await?,
        inbox: delete_in_batches(pool, DELETE_INBOX, config.inbox, config.batch).await?,
    })
}

async fn delete_in_batches(
    pool: &PgPool,
    statement: &'static str,
    keep: Duration,
    batch: i64,
) -> sqlx::Result<u64> {
    let mut total = 0;
    loop {
        let deleted = sqlx::query(statement)
            .bind(keep.as_secs_f64())
            .bind(batch)
            .execute(pool)
            .await?
            .rows_affected();
        total += deleted;
        if deleted < u64::try_from(batch).unwrap_or(u64::MAX) {
            return Ok(total);
        }
    }
}

/// Sweeps `schema`'s tables every `config.every` until `shutdown`; a failed
/// sweep (the database away) is logged and tried again next time.
pub async fn run(
    pool: PgPool,
    schema: &'static str,
    config: RetentionConfig,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(config.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match sweep(&pool, &config).await {
            Ok(swept) => {
                for (table, n) in [("outbox", swept.outbox), ("inbox", swept.inbox)] {
                    zoufang_core::metrics::RETENTION_DELETED
                        .with_label_values(&[schema, table])
                        .inc_by(n);
                }
                if swept != Swept::default() {
                    tracing::info!(
                        schema,
                        outbox = swept.outbox,
                        inbox = swept.inbox,
                        "retention sweep deleted old outbox and inbox rows"
                    );
                }
            }
            Err(e) => tracing::warn!(schema, error = %e, "retention sweep failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An outbox row `age_days` old, published then or never.
    async fn outbox_row(pool: &PgPool, n: i64, age_days: i64, published: bool) {
        sqlx::query(
            "INSERT INTO outbox (county, event_id, routing_key, subject, payload, created_at,
                                 published_at)
             VALUES ('430426', gen_random_uuid(), 'test.thing.happened', 'things/' || $1,
                     '\\x00', now() - make_interval(days => $2::int),
                     CASE WHEN $3 THEN now() - make_interval(days => $2::int) END)",
        )
        .bind(n)
        .bind(age_days)
        .bind(published)
        .execute(pool)
        .await
        .unwrap();
    }

    /// An inbox id received `age_days` ago.
    async fn inbox_row(pool: &PgPool, age_days: i64) {
        sqlx::query(
            "INSERT INTO inbox (county, event_id, routing_key, received_at)
             VALUES ('430426', gen_random_uuid(), 'test.thing.happened',
                     now() - make_interval(days => $1::int))",
        )
        .bind(age_days)
        .execute(pool)
        .await
        .unwrap();
    }

    async fn subjects_left(pool: &PgPool) -> Vec<String> {
        sqlx::query_scalar("SELECT subject FROM outbox ORDER BY seq")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn old_published_events_and_old_inbox_ids_go_and_nothing_else() {
        let db = crate::scratch::ScratchDb::new();
        let pool = db.pool("retention_sweep", 2).await;
        // Outbox: five published 8–12 days ago (past a 7-day window), one
        // published 6 days ago, one never published though 20 days old,
        // one just written.
        for n in 0..5 {
            outbox_row(&pool, n, 8 + n, true).await;
        }
        outbox_row(&pool, 5, 6, true).await;
        outbox_row(&pool, 6, 20, false).await;
        outbox_row(&pool, 7, 0, false).await;
        // Inbox: three ids 31–33 days old (past 30), two 29 days and today.
        for age in [31, 32, 33, 29, 0] {
            inbox_row(&pool, age).await;
        }

        // Batches of two: the sweep goes on until a batch comes back short.
        let mut config = RetentionConfig::days(7, 30);
        config.batch = 2;
        let swept = sweep(&pool, &config).await.unwrap();
        assert_eq!(
            swept,
            Swept {
                outbox: 5,
                inbox: 3
            }
        );
        assert_eq!(
            subjects_left(&pool).await,
            ["things/5", "things/6", "things/7"],
            "the young published row and every unpublished one stay"
        );
        let inbox_ages: Vec<i32> = sqlx::query_scalar(
            "SELECT extract(day FROM now() - received_at)::int FROM inbox ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(inbox_ages, [0, 29]);

        // Nothing more to do: a second sweep deletes nothing.
        assert_eq!(sweep(&pool, &config).await.unwrap(), Swept::default());
        pool.close().await;
        db.drop_now().await;
    }

    #[tokio::test]
    async fn the_sweep_reads_its_indexes_not_the_whole_table() {
        let db = crate::scratch::ScratchDb::new();
        let pool = db.pool("retention_plan", 2).await;
        for (statement, index) in [
            (DELETE_OUTBOX, "outbox_created"),
            (DELETE_INBOX, "inbox_received"),
        ] {
            let mut tx = pool.begin().await.unwrap();
            // An empty table would be scanned whole anyway; say it is big.
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut *tx)
                .await
                .unwrap();
            let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "EXPLAIN {}",
                statement.replace("$1", "604800").replace("$2", "5000")
            )))
            .fetch_all(&mut *tx)
            .await
            .unwrap();
            let plan = plan.join("\n");
            assert!(plan.contains(index), "{index} not used:\n{plan}");
        }
        pool.close().await;
        db.drop_now().await;
    }

    #[test]
    fn an_inbox_shorter_than_a_day_is_refused_by_name() {
        let err = RetentionConfig::days(7, 0).validate().unwrap_err();
        assert!(err.contains("INBOX_RETENTION_DAYS"), "{err}");
        assert!(RetentionConfig::days(0, 1).validate().is_ok());
        let mut zero_batch = RetentionConfig::days(7, 30);
        zero_batch.batch = 0;
        assert!(zero_batch.validate().is_err());
    }
}
