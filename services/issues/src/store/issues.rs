//! The `issues` table.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// An issue row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IssueRow {
    pub county: String,
    pub issue_id: Uuid,
    pub source: i16,
    pub visit_id: Option<Uuid>,
    pub item_no: i32,
    pub campaign_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    pub region_code: String,
    pub kind: i16,
    pub category: String,
    pub description: String,
    pub households_involved: i32,
    pub priority: i16,
    pub disposition: i16,
    pub state: String,
    pub responsible_cadre_id: String,
    pub department: String,
    pub assisting_departments: Vec<String>,
    pub deadline: Option<DateTime<Utc>>,
    pub resolution: String,
    pub explanation: String,
    pub resident_acknowledged: bool,
    pub reopen_count: i32,
    pub rectification_round: i32,
    pub escalation_level: i32,
    pub merged_into: Option<Uuid>,
    pub concerned_cadre_ids: Vec<String>,
    pub supervised: bool,
    pub sign_deadline: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub resolved_in_time: Option<bool>,
    pub ever_escalated: bool,
    pub version: i64,
    pub body_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The place by name ("白地市镇朝阳村"), '' when unknown.
    pub region_name: String,
    /// The responsible cadre's name, '' when none or unknown.
    pub responsible_cadre_name: String,
}

macro_rules! columns {
    () => {
        "county, issue_id, source, visit_id, item_no, campaign_id, household_id, region_code, kind, \
         category, description, households_involved, priority, disposition, state, \
         responsible_cadre_id, department, assisting_departments, deadline, resolution, \
         explanation, resident_acknowledged, reopen_count, rectification_round, escalation_level, \
         merged_into, concerned_cadre_ids, supervised, sign_deadline, signed_at, resolved_in_time, \
         ever_escalated, version, body_hash, created_at, updated_at, resolved_at, region_name, \
         responsible_cadre_name"
    };
}

/// Inserts a new issue unless its id exists; true when inserted.
pub async fn insert(conn: &mut PgConnection, r: &IssueRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO issues (county, issue_id, source, visit_id, item_no, campaign_id, household_id,
            region_code, kind, category, description, households_involved, priority, disposition,
            state, responsible_cadre_id, department, deadline, resolution, concerned_cadre_ids,
            resolved_in_time, body_hash, resolved_at, region_name, responsible_cadre_name)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,
                 $24,$25)
         ON CONFLICT DO NOTHING",
    )
    .bind(&r.county)
    .bind(r.issue_id)
    .bind(r.source)
    .bind(r.visit_id)
    .bind(r.item_no)
    .bind(r.campaign_id)
    .bind(r.household_id)
    .bind(&r.region_code)
    .bind(r.kind)
    .bind(&r.category)
    .bind(&r.description)
    .bind(r.households_involved)
    .bind(r.priority)
    .bind(r.disposition)
    .bind(&r.state)
    .bind(&r.responsible_cadre_id)
    .bind(&r.department)
    .bind(r.deadline)
    .bind(&r.resolution)
    .bind(&r.concerned_cadre_ids)
    .bind(r.resolved_in_time)
    .bind(&r.body_hash)
    .bind(r.resolved_at)
    .bind(&r.region_name)
    .bind(&r.responsible_cadre_name)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One issue.
pub async fn get(
    ex: impl PgExecutor<'_>,
    county: &str,
    issue_id: Uuid,
) -> sqlx::Result<Option<IssueRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM issues WHERE county = $1::char(6) AND issue_id = $2"
    ))
    .bind(county)
    .bind(issue_id)
    .fetch_optional(ex)
    .await
}

/// One issue, locked for an update in this transaction.
pub async fn lock(
    conn: &mut PgConnection,
    county: &str,
    issue_id: Uuid,
) -> sqlx::Result<Option<IssueRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM issues WHERE county = $1::char(6) AND issue_id = $2 FOR UPDATE"
    ))
    .bind(county)
    .bind(issue_id)
    .fetch_optional(conn)
    .await
}

/// The county an issue id lives in.
pub async fn county_of(ex: impl PgExecutor<'_>, issue_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT county FROM issues WHERE issue_id = $1 LIMIT 1")
        .bind(issue_id)
        .fetch_optional(ex)
        .await
}

/// Writes back every mutable field and bumps the version — only if the
/// stored version is still `expected` (optimistic concurrency). False when
/// someone else changed it first.
pub async fn update(conn: &mut PgConnection, r: &IssueRow, expected: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE issues SET priority = $4, disposition = $5, state = $6, responsible_cadre_id = $7,
            department = $8, assisting_departments = $9, deadline = $10, resolution = $11,
            explanation = $12, resident_acknowledged = $13, reopen_count = $14,
            rectification_round = $15, escalation_level = $16, merged_into = $17, supervised = $18,
            sign_deadline = $19, signed_at = $20, resolved_in_time = $21, ever_escalated = $22,
            resolved_at = $23, responsible_cadre_name = $24, version = version + 1,
            updated_at = now()
         WHERE county = $1::char(6) AND issue_id = $2 AND version = $3",
    )
    .bind(&r.county)
    .bind(r.issue_id)
    .bind(expected)
    .bind(r.priority)
    .bind(r.disposition)
    .bind(&r.state)
    .bind(&r.responsible_cadre_id)
    .bind(&r.department)
    .bind(&r.assisting_departments)
    .bind(r.deadline)
    .bind(&r.resolution)
    .bind(&r.explanation)
    .bind(r.resident_acknowledged)
    .bind(r.reopen_count)
    .bind(r.rectification_round)
    .bind(r.escalation_level)
    .bind(r.merged_into)
    .bind(r.supervised)
    .bind(r.sign_deadline)
    .bind(r.signed_at)
    .bind(r.resolved_in_time)
    .bind(r.ever_escalated)
    .bind(r.resolved_at)
    .bind(&r.responsible_cadre_name)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves an issue's deadline (bumping its version) and clears the sweeper's
/// due-soon and overdue marks, so both fire again for the new deadline.
/// None when the issue is missing or already has this deadline.
pub async fn set_deadline(
    conn: &mut PgConnection,
    county: &str,
    issue_id: Uuid,
    deadline: DateTime<Utc>,
) -> sqlx::Result<Option<IssueRow>> {
    sqlx::query_as(concat!(
        "UPDATE issues SET deadline = $3, due_soon_emitted_for = NULL, overdue_emitted_for = NULL,
            version = version + 1, updated_at = now()
         WHERE county = $1::char(6) AND issue_id = $2 AND deadline IS DISTINCT FROM $3
         RETURNING ",
        columns!()
    ))
    .bind(county)
    .bind(issue_id)
    .bind(deadline)
    .fetch_optional(conn)
    .await
}

/// Clears the sweeper's due-soon and overdue marks of an issue (a new round
/// whose deadline must be announced again, even if it equals an old one).
pub async fn clear_deadline_marks(
    conn: &mut PgConnection,
    county: &str,
    issue_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE issues SET due_soon_emitted_for = NULL, overdue_emitted_for = NULL
         WHERE county = $1::char(6) AND issue_id = $2",
    )
    .bind(county)
    .bind(issue_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Which threshold column a sweep marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// `due_soon_emitted_for`.
    DueSoon,
    /// `overdue_emitted_for`.
    Overdue,
    /// `sign_overdue_emitted_for`: escalated, not signed for in time.
    SignOverdue,
}

/// The rows a sweep for a mark claims: open issues past the threshold
/// (`$1` now, `$2` the end of the due-soon window) not yet announced for
/// their current deadline.
macro_rules! crossed {
    (Overdue) => {
        "deadline IS NOT NULL AND deadline < $1
         AND state IN ('open', 'assigned', 'in_progress', 'escalated', 'reopened')
         AND overdue_emitted_for IS DISTINCT FROM deadline"
    };
    (DueSoon) => {
        "deadline IS NOT NULL AND deadline >= $1 AND deadline <= $2
         AND state IN ('open', 'assigned', 'in_progress', 'escalated', 'reopened')
         AND due_soon_emitted_for IS DISTINCT FROM deadline"
    };
    (SignOverdue) => {
        "state = 'escalated' AND signed_at IS NULL AND sign_deadline < $1
         AND sign_overdue_emitted_for IS DISTINCT FROM sign_deadline
         AND $2::timestamptz IS NOT NULL"
    };
}

/// The counties with issues a sweep for `mark` would claim: a read without
/// locks, so it may ask every shard.
pub async fn crossed_counties(
    exec: impl PgExecutor<'_>,
    mark: Mark,
    now: DateTime<Utc>,
    due_soon_until: DateTime<Utc>,
) -> sqlx::Result<Vec<String>> {
    // Each claim is materialised first: as a plain `IN (subquery)` the
    // planner may rescan it per row, and a rescan skips the rows this
    // statement has just marked and claims the next ones, past LIMIT.
    let sql = match mark {
        Mark::Overdue => concat!(
            "SELECT DISTINCT county FROM issues WHERE ",
            crossed!(Overdue)
        ),
        Mark::DueSoon => concat!(
            "SELECT DISTINCT county FROM issues WHERE ",
            crossed!(DueSoon)
        ),
        Mark::SignOverdue => concat!(
            "SELECT DISTINCT county FROM issues WHERE ",
            crossed!(SignOverdue)
        ),
    };
    sqlx::query_scalar(sql)
        .bind(now)
        .bind(due_soon_until)
        .fetch_all(exec)
        .await
}

/// Claims up to `limit` of `county`'s open issues that crossed a threshold
/// and were not yet announced for their current deadline, marking them in
/// the same statement. Row locks with SKIP LOCKED make two sweepers split
/// the work, never share it; one county per claim, because Citus locks rows
/// only in a single-shard statement.
pub async fn claim_crossed(
    conn: &mut PgConnection,
    mark: Mark,
    county: &str,
    now: DateTime<Utc>,
    due_soon_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<IssueRow>> {
    // Each claim is materialised first: as a plain `IN (subquery)` the
    // planner may rescan it per row, and a rescan skips the rows this
    // statement has just marked and claims the next ones, past LIMIT.
    let sql = match mark {
        Mark::Overdue => concat!(
            "WITH picked AS MATERIALIZED (
               SELECT county, issue_id FROM issues
               WHERE county = $4::char(6) AND ",
            crossed!(Overdue),
            "
               ORDER BY deadline LIMIT $3 FOR UPDATE SKIP LOCKED)
             UPDATE issues SET overdue_emitted_for = deadline
             WHERE county = $4::char(6)
               AND (county, issue_id) IN (SELECT county, issue_id FROM picked)
             RETURNING ",
            columns!()
        ),
        Mark::DueSoon => concat!(
            "WITH picked AS MATERIALIZED (
               SELECT county, issue_id FROM issues
               WHERE county = $4::char(6) AND ",
            crossed!(DueSoon),
            "
               ORDER BY deadline LIMIT $3 FOR UPDATE SKIP LOCKED)
             UPDATE issues SET due_soon_emitted_for = deadline
             WHERE county = $4::char(6)
               AND (county, issue_id) IN (SELECT county, issue_id FROM picked)
             RETURNING ",
            columns!()
        ),
        Mark::SignOverdue => concat!(
            "WITH picked AS MATERIALIZED (
               SELECT county, issue_id FROM issues
               WHERE county = $4::char(6) AND ",
            crossed!(SignOverdue),
            "
               ORDER BY sign_deadline LIMIT $3 FOR UPDATE SKIP LOCKED)
             UPDATE issues SET sign_overdue_emitted_for = sign_deadline
             WHERE county = $4::char(6)
               AND (county, issue_id) IN (SELECT county, issue_id FROM picked)
             RETURNING ",
            columns!()
        ),
    };
    sqlx::query_as(sql)
        .bind(now)
        .bind(due_soon_until)
        .bind(limit)
        .bind(county)
        .fetch_all(conn)
        .await
}

/// Filters of an issue list.
#[derive(Debug, Clone, Default)]
pub struct IssueFilter {
    pub prefix: String,
    pub state: Option<String>,
    pub kind: Option<i16>,
    pub category: Option<String>,
    pub responsible: Option<String>,
    pub overdue_at: Option<DateTime<Utc>>,
    pub source: Option<i16>,
    pub campaign_id: Option<Uuid>,
    pub department: Option<String>,
    pub household_id: Option<Uuid>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// A page of issues, keyset-paginated by id.
pub async fn list(ex: impl PgExecutor<'_>, f: &IssueFilter) -> sqlx::Result<Vec<IssueRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM issues
         WHERE region_code LIKE $1
           AND ($2::text IS NULL OR state = $2)
           AND ($3::smallint IS NULL OR kind = $3)
           AND ($4::text IS NULL OR category = $4)
           AND ($5::text IS NULL OR responsible_cadre_id = $5)
           AND ($6::timestamptz IS NULL OR (deadline < $6
                AND state IN ('open', 'assigned', 'in_progress', 'escalated', 'reopened')))
           AND ($7::smallint IS NULL OR source = $7)
           AND ($8::uuid IS NULL OR campaign_id = $8)
           AND ($9::text IS NULL OR department = $9 OR $9 = ANY(assisting_departments))
           AND ($10::uuid IS NULL OR issue_id > $10)
           AND ($12::uuid IS NULL OR household_id = $12)
         ORDER BY issue_id LIMIT $11"
    ))
    .bind(super::like_prefix(&f.prefix))
    .bind(&f.state)
    .bind(f.kind)
    .bind(&f.category)
    .bind(&f.responsible)
    .bind(f.overdue_at)
    .bind(f.source)
    .bind(f.campaign_id)
    .bind(&f.department)
    .bind(f.after)
    .bind(f.limit)
    .bind(f.household_id)
    .fetch_all(ex)
    .await
}
