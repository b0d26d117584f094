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
    /// The place by name (township + village), empty when not known.
    pub region_name: String,
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
    pub recorded_member_count: Option<i32>,
    pub recorded_help_fen: Option<i64>,
    pub recorded_visit_date: Option<chrono::NaiveDate>,
    pub answered_member_count: Option<i32>,
    pub answered_help_fen: Option<i64>,
    pub answered_visit_date: Option<chrono::NaiveDate>,
    pub backcheck_mismatches: i32,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "county, callback_id, subject, issue_id, visit_id, household_id, region_code, region_name, campaign_id, \
         supervisor_id, state, due_at, attempts, max_attempts, summary, policy_version, cadre_ids, \
         reached, visit_confirmed, fix_confirmed, satisfaction, comment, recorded_member_count, \
         recorded_help_fen, recorded_visit_date, answered_member_count, answered_help_fen, \
         answered_visit_date, backcheck_mismatches, created_at, completed_at"
    };
}

/// Inserts a callback unless its id exists; true when inserted.
pub async fn insert(conn: &mut PgConnection, c: &CallbackRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO callbacks (county, callback_id, subject, issue_id, visit_id, household_id,
            region_code, campaign_id, supervisor_id, due_at, max_attempts, summary, policy_version, cadre_ids,
            recorded_member_count, recorded_help_fen, recorded_visit_date, region_name)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) ON CONFLICT DO NOTHING",
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
    .bind(c.recorded_member_count)
    .bind(c.recorded_help_fen)
    .bind(c.recorded_visit_date)
    .bind(&c.region_name)
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

/// What a list of callbacks is narrowed to.
#[derive(Debug, Clone)]
pub struct CallbackFilter {
    /// Region-code prefix, inside the caller's scope.
    pub prefix: String,
    pub household_id: Option<Uuid>,
    /// `open`, `done` or `unreachable`.
    pub state: Option<String>,
    /// Only this supervisor's (a supervisor who is no admin).
    pub supervisor_id: Option<String>,
    /// The last id of the previous page.
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// A page of callbacks, keyset-paginated by id.
pub async fn list(ex: impl PgExecutor<'_>, f: &CallbackFilter) -> sqlx::Result<Vec<CallbackRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM callbacks
         WHERE region_code LIKE $1
           AND ($2::uuid IS NULL OR household_id = $2)
           AND ($3::text IS NULL OR state = $3)
           AND ($4::text IS NULL OR supervisor_id = $4)
           AND ($5::uuid IS NULL OR callback_id > $5)
         ORDER BY callback_id LIMIT $6"
    ))
    .bind(super::like_prefix(&f.prefix))
    .bind(f.household_id)
    .bind(&f.state)
    .bind(&f.supervisor_id)
    .bind(f.after)
    .bind(f.limit)
    .fetch_all(ex)
    .await
}

/// The counties with open callbacks past their due time and not yet
/// announced: a read without locks, so it may ask every shard.
pub async fn overdue_counties(
    exec: impl PgExecutor<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT county FROM callbacks
         WHERE state = 'open' AND overdue_notified_at IS NULL AND due_at < $1",
    )
    .bind(now)
    .fetch_all(exec)
    .await
}

/// Claims up to `limit` of `county`'s open callbacks past their due time
/// whose overdue notice was not yet written, marking them notified at `now`
/// in the same statement. Row locks with SKIP LOCKED make two sweepers split
/// the work, never share it; a row another sweeper marked and committed
/// meanwhile is re-checked under its lock and no longer qualifies. One
/// county per claim: Citus locks rows only in a single-shard statement.
pub async fn claim_overdue(
    conn: &mut PgConnection,
    county: &str,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<CallbackRow>> {
    sqlx::query_as(concat!(
        // The claim is materialised first: as a plain `IN (subquery)` the
        // planner may rescan it per row, and a rescan skips the rows this
        // statement has just marked and claims the next ones, past LIMIT.
        "WITH picked AS MATERIALIZED (
           SELECT county, callback_id FROM callbacks
           WHERE county = $3::char(6)
             AND state = 'open' AND overdue_notified_at IS NULL AND due_at < $1
           ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         UPDATE callbacks SET overdue_notified_at = $1
         WHERE county = $3::char(6)
           AND (county, callback_id) IN (SELECT county, callback_id FROM picked)
         RETURNING ",
        columns!()
    ))
    .bind(now)
    .bind(limit)
    .bind(county)
    .fetch_all(conn)
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
            fix_confirmed = $7, satisfaction = $8, comment = $9, completed_at = $10,
            answered_member_count = $11, answered_help_fen = $12, answered_visit_date = $13,
            backcheck_mismatches = $14
         WHERE county = $1::char(6) AND callback_id = $2",
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
    .bind(c.answered_member_count)
    .bind(c.answered_help_fen)
    .bind(c.answered_visit_date)
    .bind(c.backcheck_mismatches)
    .execute(conn)
    .await?;
    Ok(())
}

/// Callback figures of a region (and campaign), in total and per cadre.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Totals {
    /// The cadre, or "" for the region's total.
    pub cadre_id: String,
    pub callbacks: i64,
    pub done: i64,
    pub unreachable: i64,
    pub open: i64,
    pub overdue: i64,
    pub attempted: i64,
    pub reached: i64,
    pub items_answered: i64,
    pub items_satisfied: i64,
    pub visits_checked: i64,
    pub visits_not_confirmed: i64,
    pub backcheck_mismatches: i64,
}

macro_rules! aggregates {
    () => {
        "count(*) AS callbacks,
            count(*) FILTER (WHERE state = 'done') AS done,
            count(*) FILTER (WHERE state = 'unreachable') AS unreachable,
            count(*) FILTER (WHERE state = 'open') AS open,
            count(*) FILTER (WHERE state = 'open' AND due_at < $3) AS overdue,
            count(*) FILTER (WHERE attempts > 0) AS attempted,
            count(*) FILTER (WHERE reached) AS reached,
            count(*) FILTER (WHERE reached AND subject = 1) AS items_answered,
            count(*) FILTER (WHERE reached AND subject = 1 AND satisfaction IN (1, 2)) AS items_satisfied,
            count(*) FILTER (WHERE reached AND subject = 2) AS visits_checked,
            count(*) FILTER (WHERE reached AND subject = 2 AND NOT visit_confirmed) AS visits_not_confirmed,
            COALESCE(sum(backcheck_mismatches), 0)::bigint AS backcheck_mismatches"
    };
}

/// The region's totals (cadre_id ""), then one row per cadre (a callback
/// about a visit made by two cadres counts for each of them).
pub async fn totals(
    ex: &sqlx::PgPool,
    prefix: &str,
    campaign_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Totals>> {
    let mut rows: Vec<Totals> = sqlx::query_as(concat!(
        "SELECT '' AS cadre_id, ",
        aggregates!(),
        " FROM callbacks
         WHERE region_code LIKE $1 AND ($2::uuid IS NULL OR campaign_id = $2)"
    ))
    .bind(super::like_prefix(prefix))
    .bind(campaign_id)
    .bind(now)
    .fetch_all(ex)
    .await?;
    rows.extend(
        sqlx::query_as::<_, Totals>(concat!(
            "SELECT cadre AS cadre_id, ",
            aggregates!(),
            " FROM callbacks, unnest(cadre_ids) AS cadre
             WHERE region_code LIKE $1 AND ($2::uuid IS NULL OR campaign_id = $2)
             GROUP BY cadre ORDER BY cadre"
        ))
        .bind(super::like_prefix(prefix))
        .bind(campaign_id)
        .bind(now)
        .fetch_all(ex)
        .await?,
    );
    Ok(rows)
}
