//! All SQL of import jobs and their error reports.
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::RowError;

/// A job as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub job_id: Uuid,
    pub kind: String,
    pub mode: String,
    pub state: String,
    pub phase: String,
    pub created_by: String,
    pub scope: String,
    pub format: String,
    pub sheet: String,
    pub header_row: i32,
    pub rows_total: i32,
    pub rows_processed: i32,
    pub rows_imported: i32,
    pub rows_failed: i32,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The counters a running job reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: i32,
    pub processed: i32,
    pub imported: i32,
    pub failed: i32,
}

/// A running job silent this long was cut off (a gateway restart).
pub const STALE_SECS: i64 = 120;

/// Creates a running job.
pub async fn create<'e>(
    ex: impl PgExecutor<'e>,
    job_id: Uuid,
    kind: &str,
    mode: &str,
    created_by: &str,
    scope: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO import_jobs (job_id, kind, mode, created_by, scope) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(job_id)
    .bind(kind)
    .bind(mode)
    .bind(created_by)
    .bind(scope)
    .execute(ex)
    .await?;
    Ok(())
}

/// Records what was read: format, sheet, header row and the row count.
pub async fn set_source<'e>(
    ex: impl PgExecutor<'e>,
    job_id: Uuid,
    format: &str,
    sheet: &str,
    header_row: u32,
    rows_total: i32,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE import_jobs SET format = $2, sheet = $3, header_row = $4, rows_total = $5,
            phase = 'checking', updated_at = now()
         WHERE job_id = $1",
    )
    .bind(job_id)
    .bind(format)
    .bind(sheet)
    .bind(i32::try_from(header_row).unwrap_or(i32::MAX))
    .bind(rows_total)
    .execute(ex)
    .await?;
    Ok(())
}

/// Reports progress (and the phase).
pub async fn progress<'e>(
    ex: impl PgExecutor<'e>,
    job_id: Uuid,
    phase: &str,
    c: Counts,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE import_jobs SET phase = $2, rows_total = $3, rows_processed = $4,
            rows_imported = $5, rows_failed = $6, updated_at = now()
         WHERE job_id = $1 AND state = 'running'",
    )
    .bind(job_id)
    .bind(phase)
    .bind(c.total)
    .bind(c.processed)
    .bind(c.imported)
    .bind(c.failed)
    .execute(ex)
    .await?;
    Ok(())
}

/// Ends a job: `done` or `failed`, with its message and final counts.
pub async fn finish<'e>(
    ex: impl PgExecutor<'e>,
    job_id: Uuid,
    state: &str,
    message: &str,
    c: Counts,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE import_jobs SET state = $2, phase = 'finished', message = $3, rows_total = $4,
            rows_processed = $5, rows_imported = $6, rows_failed = $7,
            updated_at = now(), finished_at = now()
         WHERE job_id = $1",
    )
    .bind(job_id)
    .bind(state)
    .bind(message)
    .bind(c.total)
    .bind(c.processed)
    .bind(c.imported)
    .bind(c.failed)
    .execute(ex)
    .await?;
    Ok(())
}

/// Appends errors, numbered after those already stored.
pub async fn add_errors<'e>(
    ex: impl PgExecutor<'e>,
    job_id: Uuid,
    first_seq: i32,
    errors: &[RowError],
) -> sqlx::Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let seqs: Vec<i32> = (0..errors.len() as i32).map(|i| first_seq + i).collect();
    sqlx::query(
        "INSERT INTO import_errors (job_id, seq, row_no, col, reason)
         SELECT $1, * FROM UNNEST($2::int[], $3::int[], $4::text[], $5::text[])",
    )
    .bind(job_id)
    .bind(seqs)
    .bind(
        errors
            .iter()
            .map(|e| i32::try_from(e.row).unwrap_or(i32::MAX))
            .collect::<Vec<_>>(),
    )
    .bind(errors.iter().map(|e| e.column.clone()).collect::<Vec<_>>())
    .bind(errors.iter().map(|e| e.reason.clone()).collect::<Vec<_>>())
    .execute(ex)
    .await?;
    Ok(())
}

/// Keeps initial passwords for the job's creator: (row, cadre, username, password).
pub async fn add_credentials<'e>(
    ex: impl PgExecutor<'e>,
    job_id: Uuid,
    rows: &[(u32, String, String, String)],
) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO import_credentials (job_id, row_no, cadre_id, username, initial_password)
         SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::text[], $5::text[])
         ON CONFLICT (job_id, row_no) DO NOTHING",
    )
    .bind(job_id)
    .bind(
        rows.iter()
            .map(|r| i32::try_from(r.0).unwrap_or(i32::MAX))
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.3.clone()).collect::<Vec<_>>())
    .execute(ex)
    .await?;
    Ok(())
}

/// Takes (and deletes) a job's initial passwords, in row order.
pub async fn take_credentials<'e>(
    ex: impl PgExecutor<'e>,
    job_id: Uuid,
) -> sqlx::Result<Vec<(i32, String, String, String)>> {
    let mut rows: Vec<(i32, String, String, String)> = sqlx::query_as(
        "DELETE FROM import_credentials WHERE job_id = $1
         RETURNING row_no, cadre_id, username, initial_password",
    )
    .bind(job_id)
    .fetch_all(ex)
    .await?;
    rows.sort_by_key(|r| r.0);
    Ok(rows)
}

/// How many initial passwords of a job wait to be fetched.
pub async fn credentials_waiting<'e>(ex: impl PgExecutor<'e>, job_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM import_credentials WHERE job_id = $1")
        .bind(job_id)
        .fetch_one(ex)
        .await
}

/// A job; a running one silent for [`STALE_SECS`] is marked failed first.
pub async fn get(pool: &sqlx::PgPool, job_id: Uuid) -> sqlx::Result<Option<JobRow>> {
    sqlx::query(
        "UPDATE import_jobs SET state = 'failed', phase = 'finished', finished_at = now(),
            message = '导入被中断（网关重启）：已写入的行保留，可重新上传同一文件，已登记的行会报“已登记”'
         WHERE job_id = $1 AND state = 'running' AND updated_at < now() - make_interval(secs => $2)",
    )
    .bind(job_id)
    .bind(STALE_SECS as f64)
    .execute(pool)
    .await?;
    sqlx::query_as(
        "SELECT job_id, kind, mode, state, phase, created_by, scope, format, sheet, header_row,
            rows_total, rows_processed, rows_imported, rows_failed, message, created_at,
            updated_at, finished_at
         FROM import_jobs WHERE job_id = $1",
    )
    .bind(job_id)
    .fetch_optional(pool)
    .await
}

/// A page of a job's errors in row order, and how many there are.
pub async fn errors<'e>(
    ex: impl PgExecutor<'e> + Copy,
    job_id: Uuid,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(Vec<RowError>, i64)> {
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM import_errors WHERE job_id = $1")
        .bind(job_id)
        .fetch_one(ex)
        .await?;
    let rows: Vec<(i32, String, String)> = sqlx::query_as(
        "SELECT row_no, col, reason FROM import_errors WHERE job_id = $1
         ORDER BY row_no, seq OFFSET $2 LIMIT $3",
    )
    .bind(job_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    Ok((
        rows.into_iter()
            .map(|(row, column, reason)| RowError {
                row: u32::try_from(row).unwrap_or(0),
                column,
                reason,
            })
            .collect(),
        total,
    ))
}

/// Deletes the jobs last touched more than `days` days ago, with their
/// error reports (which cascade), in batches; the number of jobs deleted.
pub async fn expire(pool: &sqlx::PgPool, days: u32) -> sqlx::Result<u64> {
    let mut deleted = 0;
    loop {
        let n = sqlx::query(
            "DELETE FROM import_jobs WHERE job_id IN (
                SELECT job_id FROM import_jobs
                WHERE updated_at < now() - make_interval(days => $1)
                LIMIT 500)",
        )
        .bind(i32::try_from(days).unwrap_or(i32::MAX))
        .execute(pool)
        .await?
        .rows_affected();
        deleted += n;
        if n < 500 {
            return Ok(deleted);
        }
    }
}
