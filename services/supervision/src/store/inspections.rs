//! Inspections (督查记录).
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// An inspection row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InspectionRow {
    pub county: String,
    pub inspection_id: Uuid,
    pub cadre_id: String,
    pub region_code: String,
    pub kind: i16,
    pub finding: String,
    pub inspector_id: String,
    pub rectify_by: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_note: String,
    pub body_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "county, inspection_id, cadre_id, region_code, kind, finding, inspector_id, rectify_by, \
         closed_at, close_note, body_hash, created_at"
    };
}

/// Inserts unless the id exists; true when inserted.
pub async fn insert(conn: &mut PgConnection, r: &InspectionRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO inspections (county, inspection_id, cadre_id, region_code, kind, finding,
            inspector_id, rectify_by, body_hash)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING",
    )
    .bind(&r.county)
    .bind(r.inspection_id)
    .bind(&r.cadre_id)
    .bind(&r.region_code)
    .bind(r.kind)
    .bind(&r.finding)
    .bind(&r.inspector_id)
    .bind(r.rectify_by)
    .bind(&r.body_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One inspection by id, locked when `for_update`.
pub async fn find(
    conn: &mut PgConnection,
    id: Uuid,
    for_update: bool,
) -> sqlx::Result<Option<InspectionRow>> {
    let sql = if for_update {
        concat!(
            "SELECT ",
            columns!(),
            " FROM inspections WHERE inspection_id = $1 FOR UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            columns!(),
            " FROM inspections WHERE inspection_id = $1"
        )
    };
    sqlx::query_as(sql).bind(id).fetch_optional(conn).await
}

/// Closes an inspection.
pub async fn close(
    conn: &mut PgConnection,
    county: &str,
    id: Uuid,
    note: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE inspections SET closed_at = now(), close_note = $3 WHERE county = $1::char(6) AND inspection_id = $2")
        .bind(county)
        .bind(id)
        .bind(note)
        .execute(conn)
        .await?;
    Ok(())
}

/// Inspections of a region prefix, open ones first by rectification date.
pub async fn list(
    ex: impl PgExecutor<'_>,
    prefix: &str,
    open_only: bool,
    cadre_id: Option<&str>,
) -> sqlx::Result<Vec<InspectionRow>> {
    sqlx::query_as(concat!(
        "SELECT ", columns!(), " FROM inspections
         WHERE region_code LIKE $1 AND (NOT $2 OR closed_at IS NULL) AND ($3::text IS NULL OR cadre_id = $3)
         ORDER BY closed_at IS NOT NULL, rectify_by, inspection_id LIMIT 500"
    ))
    .bind(super::like_prefix(prefix))
    .bind(open_only)
    .bind(cadre_id)
    .fetch_all(ex)
    .await
}
