//! Cases, their log, and the lookups the doors and the ledger need.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// One case as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub county: String,
    pub case_id: Uuid,
    pub source_system: String,
    pub external_id: String,
    pub hotline: bool,
    pub channel: String,
    pub sequence: i64,
    pub name_enc: Option<Vec<u8>>,
    pub name_masked: String,
    pub id_hash: Option<Vec<u8>>,
    pub id_masked: String,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_masked: String,
    pub region_code: String,
    pub content: String,
    pub attachments: serde_json::Value,
    pub received_at: DateTime<Utc>,
    pub household_id: Option<Uuid>,
    pub issue_id: Uuid,
    pub stage: String,
    pub outcome: String,
    pub due_at: Option<DateTime<Utc>>,
    pub extended: bool,
    pub extension_reason: String,
    pub answered_at: Option<DateTime<Utc>>,
    pub reply_text: String,
    pub assignee: String,
    pub merged_into: Option<Uuid>,
    pub repeat_of: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Inserts a new case; None when the same source and external id exist
/// already (a concurrent delivery won).
pub async fn insert(conn: &mut PgConnection, row: &CaseRow) -> sqlx::Result<Option<CaseRow>> {
    sqlx::query_as(
        "INSERT INTO cases (county, case_id, source_system, external_id, hotline, channel, sequence,
             name_enc, name_masked, id_hash, id_masked, phone_enc, phone_masked, region_code,
             content, attachments, received_at, household_id, issue_id, stage, outcome, due_at,
             repeat_of, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20, $21, $22, $23, $24, $24)
         ON CONFLICT DO NOTHING
         RETURNING *",
    )
    .bind(&row.county)
    .bind(row.case_id)
    .bind(&row.source_system)
    .bind(&row.external_id)
    .bind(row.hotline)
    .bind(&row.channel)
    .bind(row.sequence)
    .bind(&row.name_enc)
    .bind(&row.name_masked)
    .bind(&row.id_hash)
    .bind(&row.id_masked)
    .bind(&row.phone_enc)
    .bind(&row.phone_masked)
    .bind(&row.region_code)
    .bind(&row.content)
    .bind(&row.attachments)
    .bind(row.received_at)
    .bind(row.household_id)
    .bind(row.issue_id)
    .bind(&row.stage)
    .bind(&row.outcome)
    .bind(row.due_at)
    .bind(row.repeat_of)
    .bind(row.created_at)
    .fetch_optional(conn)
    .await
}

/// A case, locked for update.
pub async fn lock(
    conn: &mut PgConnection,
    county: &str,
    case_id: Uuid,
) -> sqlx::Result<Option<CaseRow>> {
    sqlx::query_as("SELECT * FROM cases WHERE county = $1::char(6) AND case_id = $2 FOR UPDATE")
        .bind(county)
        .bind(case_id)
        .fetch_optional(conn)
        .await
}

/// A case by id, in whatever county it lives.
pub async fn get(db: impl PgExecutor<'_>, case_id: Uuid) -> sqlx::Result<Option<CaseRow>> {
    sqlx::query_as("SELECT * FROM cases WHERE case_id = $1")
        .bind(case_id)
        .fetch_optional(db)
        .await
}

/// The case a ledger item belongs to.
pub async fn by_issue(db: impl PgExecutor<'_>, issue_id: Uuid) -> sqlx::Result<Option<CaseRow>> {
    sqlx::query_as("SELECT * FROM cases WHERE issue_id = $1")
        .bind(issue_id)
        .fetch_optional(db)
        .await
}

/// The petitioner's earlier final case in the same county, if any (the
/// claim may not be accepted again).
pub async fn final_case_of(
    db: impl PgExecutor<'_>,
    county: &str,
    id_hash: &[u8],
) -> sqlx::Result<Option<CaseRow>> {
    sqlx::query_as(
        "SELECT * FROM cases WHERE county = $1::char(6) AND id_hash = $2 AND stage = 'final'
         ORDER BY updated_at DESC LIMIT 1",
    )
    .bind(county)
    .bind(id_hash)
    .fetch_optional(db)
    .await
}

/// Writes the case's mutable columns back and bumps its version.
pub async fn save(
    conn: &mut PgConnection,
    row: &CaseRow,
    now: DateTime<Utc>,
) -> sqlx::Result<CaseRow> {
    sqlx::query_as(
        "UPDATE cases SET channel = $3, sequence = $4, name_enc = $5, name_masked = $6,
             id_hash = $7, id_masked = $8, phone_enc = $9, phone_masked = $10, region_code = $11,
             content = $12, attachments = $13, household_id = $14, stage = $15, outcome = $16,
             due_at = $17, extended = $18, extension_reason = $19, answered_at = $20,
             reply_text = $21, assignee = $22, merged_into = $23,
             version = version + 1, updated_at = $24
         WHERE county = $1::char(6) AND case_id = $2
         RETURNING *",
    )
    .bind(&row.county)
    .bind(row.case_id)
    .bind(&row.channel)
    .bind(row.sequence)
    .bind(&row.name_enc)
    .bind(&row.name_masked)
    .bind(&row.id_hash)
    .bind(&row.id_masked)
    .bind(&row.phone_enc)
    .bind(&row.phone_masked)
    .bind(&row.region_code)
    .bind(&row.content)
    .bind(&row.attachments)
    .bind(row.household_id)
    .bind(&row.stage)
    .bind(&row.outcome)
    .bind(row.due_at)
    .bind(row.extended)
    .bind(&row.extension_reason)
    .bind(row.answered_at)
    .bind(&row.reply_text)
    .bind(&row.assignee)
    .bind(row.merged_into)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// One line of a case's log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogRow {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub change: String,
    pub stage: String,
    pub note: String,
}

/// Appends to the case's log.
pub async fn log(
    conn: &mut PgConnection,
    row: &CaseRow,
    at: DateTime<Utc>,
    actor: &str,
    change: &str,
    note: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO case_log (county, case_id, at, actor, change, stage, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.county)
    .bind(row.case_id)
    .bind(at)
    .bind(actor)
    .bind(change)
    .bind(&row.stage)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// A case's log, oldest first.
pub async fn log_of(
    db: impl PgExecutor<'_>,
    county: &str,
    case_id: Uuid,
) -> sqlx::Result<Vec<LogRow>> {
    sqlx::query_as(
        "SELECT at, actor, change, stage, note FROM case_log
         WHERE county = $1::char(6) AND case_id = $2 ORDER BY seq",
    )
    .bind(county)
    .bind(case_id)
    .fetch_all(db)
    .await
}

/// What a case list filters on.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub prefix: String,
    pub stage: Option<String>,
    pub hotline: Option<bool>,
    pub household_id: Option<Uuid>,
    pub open_only: bool,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// Stages after which nothing more happens.
pub const CLOSED_STAGES: &[&str] = &["not_accepted", "final", "returned", "merged"];

/// A page of cases in id order.
pub async fn list(db: impl PgExecutor<'_>, f: &Filter) -> sqlx::Result<Vec<CaseRow>> {
    let closed: Vec<String> = CLOSED_STAGES.iter().map(|s| (*s).to_owned()).collect();
    sqlx::query_as(
        "SELECT * FROM cases
         WHERE region_code LIKE $1 || '%'
           AND ($2::text IS NULL OR stage = $2)
           AND ($3::boolean IS NULL OR hotline = $3)
           AND ($4::uuid IS NULL OR household_id = $4)
           AND (NOT $5 OR stage <> ALL($6))
           AND ($7::uuid IS NULL OR case_id > $7)
         ORDER BY case_id
         LIMIT $8",
    )
    .bind(&f.prefix)
    .bind(&f.stage)
    .bind(f.hotline)
    .bind(f.household_id)
    .bind(f.open_only)
    .bind(&closed)
    .bind(f.after)
    .bind(f.limit)
    .fetch_all(db)
    .await
}

/// The counties with replied or reviewed cases answered before
/// `answered_before`: a read without locks, so it may ask every shard.
pub async fn lapsed_counties(
    db: impl PgExecutor<'_>,
    answered_before: DateTime<Utc>,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT county FROM cases
         WHERE stage IN ('replied', 'reviewed') AND answered_at < $1",
    )
    .bind(answered_before)
    .fetch_all(db)
    .await
}

/// `county`'s replied or reviewed cases answered before `answered_before`
/// (their appeal window has run out), locked for this transaction; other
/// replicas skip them. One county per claim: Citus locks rows only in a
/// single-shard statement.
pub async fn claim_lapsed(
    conn: &mut PgConnection,
    county: &str,
    answered_before: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<CaseRow>> {
    sqlx::query_as(
        "SELECT * FROM cases
         WHERE county = $3::char(6) AND stage IN ('replied', 'reviewed') AND answered_at < $1
         ORDER BY answered_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED",
    )
    .bind(answered_before)
    .bind(limit)
    .bind(county)
    .fetch_all(conn)
    .await
}
