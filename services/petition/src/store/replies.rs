//! Answers pushed back to source systems, with their delivery state.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

/// One answer to push.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplyRow {
    pub county: String,
    pub reply_id: Uuid,
    pub case_id: Uuid,
    pub source_system: String,
    pub change: String,
    pub body: serde_json::Value,
    pub state: String,
    pub attempts: i32,
    pub next_at: DateTime<Utc>,
    pub last_error: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Queues an answer; the same id again is ignored.
pub async fn enqueue(conn: &mut PgConnection, row: &ReplyRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO replies (county, reply_id, case_id, source_system, change, body, next_at,
                              created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT DO NOTHING",
    )
    .bind(&row.county)
    .bind(row.reply_id)
    .bind(row.case_id)
    .bind(&row.source_system)
    .bind(&row.change)
    .bind(&row.body)
    .bind(row.next_at)
    .bind(row.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The counties with answers due at `now` (or whose lease expired): a read
/// without locks, so it may ask every shard.
pub async fn due_counties(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT county FROM replies
         WHERE state IN ('pending', 'sending') AND next_at <= $1
           AND (locked_until IS NULL OR locked_until < $1)",
    )
    .bind(now)
    .fetch_all(pool)
    .await
}

/// Claims up to `limit` of `county`'s due answers until `lease_until`
/// (several replicas share the work; a claim whose holder died expires).
/// One county per claim: Citus locks rows only in a single-shard statement.
pub async fn claim_due(
    pool: &PgPool,
    county: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<ReplyRow>> {
    sqlx::query_as(
        // Materialised so that no plan rescans the claim (a rescan would skip
        // the rows just claimed and take more than LIMIT).
        "WITH due AS MATERIALIZED (
               SELECT county, reply_id FROM replies
               WHERE county = $1::char(6)
                 AND state IN ('pending', 'sending') AND next_at <= $2
                 AND (locked_until IS NULL OR locked_until < $2)
               ORDER BY next_at
               LIMIT $4
               FOR UPDATE SKIP LOCKED)
         UPDATE replies r SET state = 'sending', locked_until = $3, attempts = r.attempts + 1
         FROM due
         WHERE r.county = $1::char(6) AND r.county = due.county AND r.reply_id = due.reply_id
         RETURNING r.county, r.reply_id, r.case_id, r.source_system, r.change, r.body, r.state,
                   r.attempts, r.next_at, r.last_error, r.created_at, r.sent_at",
    )
    .bind(county)
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Ends an answer's delivery: sent, or failed with the reason.
pub async fn finish(
    pool: &PgPool,
    county: &str,
    reply_id: Uuid,
    state: &str,
    at: DateTime<Utc>,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE replies SET state = $3, locked_until = NULL, last_error = $5,
             sent_at = CASE WHEN $3 = 'sent' THEN $4 ELSE sent_at END
         WHERE county = $1::char(6) AND reply_id = $2",
    )
    .bind(county)
    .bind(reply_id)
    .bind(state)
    .bind(at)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(())
}

/// Schedules another push at `at` after a failure.
pub async fn retry_at(
    pool: &PgPool,
    county: &str,
    reply_id: Uuid,
    at: DateTime<Utc>,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE replies SET state = 'pending', locked_until = NULL, next_at = $3, last_error = $4
         WHERE county = $1::char(6) AND reply_id = $2",
    )
    .bind(county)
    .bind(reply_id)
    .bind(at)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(())
}

/// A case's answers, oldest first.
pub async fn of_case(
    db: impl PgExecutor<'_>,
    county: &str,
    case_id: Uuid,
) -> sqlx::Result<Vec<ReplyRow>> {
    sqlx::query_as(
        "SELECT county, reply_id, case_id, source_system, change, body, state, attempts, next_at,
                last_error, created_at, sent_at
         FROM replies WHERE county = $1::char(6) AND case_id = $2 ORDER BY created_at, change",
    )
    .bind(county)
    .bind(case_id)
    .fetch_all(db)
    .await
}
