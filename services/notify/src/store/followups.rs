//! What the service keeps beyond the messages themselves: overdue items on
//! the escalation ladder, each person's open items for the digest, and which
//! digests went out.
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// An overdue item on the ladder.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EscalationRow {
    pub county: String,
    pub issue_id: Uuid,
    pub deadline: DateTime<Utc>,
    pub level: i32,
    pub next_at: DateTime<Utc>,
    pub vars: sqlx::types::Json<std::collections::BTreeMap<String, String>>,
    pub region_code: String,
    pub urgent: bool,
}

/// Puts an item on the bottom rung; an item already climbing for the same
/// deadline stays where it is (a replayed `overdue` restarts nothing).
pub async fn start_ladder(conn: &mut PgConnection, e: &EscalationRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO escalations (county, issue_id, deadline, level, next_at, vars, region_code,
            urgent)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
         ON CONFLICT (county, issue_id) DO UPDATE SET
            deadline = EXCLUDED.deadline, level = EXCLUDED.level, next_at = EXCLUDED.next_at,
            vars = EXCLUDED.vars, region_code = EXCLUDED.region_code, urgent = EXCLUDED.urgent
         WHERE escalations.deadline <> EXCLUDED.deadline",
    )
    .bind(&e.county)
    .bind(e.issue_id)
    .bind(e.deadline)
    .bind(e.level)
    .bind(e.next_at)
    .bind(&e.vars)
    .bind(&e.region_code)
    .bind(e.urgent)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes an item off the ladder.
pub async fn stop_ladder(
    conn: &mut PgConnection,
    county: &str,
    issue_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM escalations WHERE county = $1::char(6) AND issue_id = $2")
        .bind(county)
        .bind(issue_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The counties with items due to climb at `now`: a read without locks, so
/// it may ask every shard.
pub async fn escalation_counties(
    exec: impl PgExecutor<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT DISTINCT county FROM escalations WHERE next_at <= $1")
        .bind(now)
        .fetch_all(exec)
        .await
}

/// Locks up to `limit` of `county`'s items due to climb at `now` (skipping
/// ones another replica holds). One county per claim: Citus locks rows only
/// in a single-shard statement.
pub async fn due_escalations(
    conn: &mut PgConnection,
    county: &str,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<EscalationRow>> {
    sqlx::query_as(
        "SELECT county, issue_id, deadline, level, next_at, vars, region_code, urgent
         FROM escalations WHERE county = $3::char(6) AND next_at <= $1
         ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(now)
    .bind(limit)
    .bind(county)
    .fetch_all(conn)
    .await
}

/// Moves an item to `level`; `next_at` None takes it off (top rung reached).
pub async fn climb(
    conn: &mut PgConnection,
    county: &str,
    issue_id: Uuid,
    level: i32,
    next_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    match next_at {
        Some(at) => {
            sqlx::query(
                "UPDATE escalations SET level = $3, next_at = $4 WHERE county = $1::char(6) AND issue_id = $2",
            )
            .bind(county)
            .bind(issue_id)
            .bind(level)
            .bind(at)
            .execute(conn)
            .await?;
            Ok(())
        }
        None => stop_ladder(conn, county, issue_id).await,
    }
}

/// Records that `recipient_id` has the item open with `status` (due_soon, overdue).
#[allow(clippy::too_many_arguments)]
pub async fn upsert_open_item(
    conn: &mut PgConnection,
    county: &str,
    recipient_id: &str,
    issue_id: Uuid,
    status: &str,
    title: &str,
    deadline: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO open_items (county, recipient_id, issue_id, status, title, deadline, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7)
         ON CONFLICT (county, recipient_id, issue_id) DO UPDATE SET
            status = EXCLUDED.status, title = EXCLUDED.title, deadline = EXCLUDED.deadline,
            updated_at = EXCLUDED.updated_at",
    )
    .bind(county)
    .bind(recipient_id)
    .bind(issue_id)
    .bind(status)
    .bind(title)
    .bind(deadline)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops an item from every digest.
pub async fn drop_open_item(
    conn: &mut PgConnection,
    county: &str,
    issue_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM open_items WHERE county = $1::char(6) AND issue_id = $2")
        .bind(county)
        .bind(issue_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A person whose digest for a date is due.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DigestDue {
    pub county: String,
    pub recipient_id: String,
}

/// Up to `limit` people with open items, digests on, and no digest for `date` yet.
pub async fn digests_due<'e>(
    exec: impl PgExecutor<'e>,
    date: NaiveDate,
    limit: i64,
) -> sqlx::Result<Vec<DigestDue>> {
    sqlx::query_as(
        "SELECT DISTINCT o.county, o.recipient_id
         FROM open_items o
         LEFT JOIN preferences p ON p.county = o.county AND p.recipient_id = o.recipient_id
         WHERE COALESCE(p.digest_enabled, true)
           AND NOT EXISTS (SELECT 1 FROM digests d WHERE d.county = o.county
                           AND d.recipient_id = o.recipient_id AND d.digest_date = $1)
         ORDER BY o.county, o.recipient_id LIMIT $2",
    )
    .bind(date)
    .bind(limit)
    .fetch_all(exec)
    .await
}

/// Claims a person's digest for a date; false when another replica (or an
/// earlier tick) already did.
pub async fn claim_digest(
    conn: &mut PgConnection,
    county: &str,
    recipient_id: &str,
    date: NaiveDate,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO digests (county, recipient_id, digest_date) VALUES ($1,$2,$3)
         ON CONFLICT DO NOTHING",
    )
    .bind(county)
    .bind(recipient_id)
    .bind(date)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A person's open items: (status, title, deadline).
pub async fn open_items_of(
    conn: &mut PgConnection,
    county: &str,
    recipient_id: &str,
) -> sqlx::Result<Vec<(String, String, Option<DateTime<Utc>>)>> {
    sqlx::query_as(
        "SELECT status, title, deadline FROM open_items WHERE county = $1::char(6) AND recipient_id = $2
         ORDER BY deadline NULLS LAST",
    )
    .bind(county)
    .bind(recipient_id)
    .fetch_all(conn)
    .await
}
