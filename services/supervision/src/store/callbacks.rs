//! Callback tasks and their attempts.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A callback row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallbackRow {
    pub county: String,
    pub callback_id: Uuid,
    pub subject: i16,
    pub issue_id: Option<Uuid>,
    pub visit_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    pub region_code: String,
    pub campaign_id: Option<Uuid>,
    pub supervisor_id: String,
    pub state: String,
    pub due_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub summary: String,
    pub policy_version: i32,
    pub cadre_ids: Vec<String>,
    pub reached: bool,
    pub visit_confirmed: bool,
    pub fix_confirmed: bool,
    pub satisfaction: i16,
    pub comment: String,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "county, callback_id, subject, issue_id, visit_id, household_id, region_code, campaign_id, \
         supervisor_id, state, due_at, attempts, max_attempts, summary, policy_version, cadre_ids, \
         reached, visit_confirmed, fix_confirmed, satisfaction, comment, created_at, completed_at"
    };
}

/// Inserts a callback unless its id exists; true when inserted.
pub async fn insert(conn: &mut PgConnection, c: &CallbackRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO callbacks (county, callback_id, subject, issue_id, visit_id, household_id,
            region_code, campaign_id, supervisor_id, due_at, max_attempts, summary, policy_version, cadre_ids)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT DO NOTHING",
    )
    .bind(&c.county)
    .bind(c.callback_id)
    .bind(c.subject)
    .bind(c.issue_id)
    .bind(c.visit_id)
    .bind(c.household_id)
    .bind(&c.region_code)
    .bind(c.campaign_id)
    .bind(&c.supervisor_id)
    .bind(c.due_at)
    .bind(c.max_attempts)
    .bind(&c.summary)
    .bind(c.policy_version)
    .bind(&c.cadre_ids)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One callback by id, locked when `for_update`.
pub async fn find(
    conn: &mut PgConnection,
    callback_id: Uuid,
    for_update: bool,
) -> sqlx::Result<Option<CallbackRow>> {
    let sql = if for_update {
        concat!(
            "SELECT ",
            columns!(),
            " FROM callbacks WHERE callback_id = $1 FOR UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            columns!(),
            " FROM callbacks WHERE callback_id = $1"
        )
    };
    sqlx::query_as(sql)
        .bind(callback_id)
        .fetch_optional(conn)
        .await
}

/// A supervisor's open callbacks, due first.
pub async fn worklist(
    ex: impl PgExecutor<'_>,
    supervisor_id: &str,
    overdue_at: Option<DateTime<Utc>>,
    limit: i64,
) -> sqlx::Result<Vec<CallbackRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM callbacks
         WHERE supervisor_id = $1 AND state = 'open' AND ($2::timestamptz IS NULL OR due_at < $2)
         ORDER BY due_at, callback_id LIMIT $3"
    ))
    .bind(supervisor_id)
    .bind(overdue_at)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Records an attempt and the task's new state and outcome.
pub async fn record_attempt(
    conn: &mut PgConnection,
    c: &CallbackRow,
    method: i16,
    actor: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO callback_attempts (county, callback_id, attempt_no, method, reached, actor)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&c.county)
    .bind(c.callback_id)
    .bind(c.attempts)
    .bind(method)
    .bind(c.reached)
    .bind(actor)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE callbacks SET state = $3, attempts = $4, reached = $5, visit_confirmed = $6,
            fix_confirmed = $7, satisfaction = $8, comment = $9, completed_at = $10
         WHERE county = $1 AND callback_id = $2",
    )
    .bind(&c.county)
    .bind(c.callback_id)
    .bind(&c.state)
    .bind(c.attempts)
    .bind(c.reached)
    .bind(c.visit_confirmed)
    .bind(c.fix_confirmed)
    .bind(c.satisfaction)
    .bind(&c.comment)
    .bind(c.completed_at)
    .execute(conn)
    .await?;
    Ok(())
}
