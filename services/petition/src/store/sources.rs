//! Source systems (信访信息系统, 12345 hotlines).
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};

/// One source system.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SourceRow {
    pub county: String,
    pub source_system: String,
    pub display_name: String,
    pub region_code: String,
    pub callback_url: String,
    pub secret_enc: Option<Vec<u8>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// The source `name` of `county`, locked until the transaction ends (so the
/// scope checked against it is the scope of the row that gets updated).
pub async fn lock(
    conn: &mut PgConnection,
    county: &str,
    name: &str,
) -> sqlx::Result<Option<SourceRow>> {
    sqlx::query_as(
        "SELECT * FROM sources WHERE county = $1::char(6) AND source_system = $2 FOR UPDATE",
    )
    .bind(county)
    .bind(name)
    .fetch_optional(conn)
    .await
}

/// Registers a new source; None when one of that name appeared meanwhile.
pub async fn insert(conn: &mut PgConnection, row: &SourceRow) -> sqlx::Result<Option<SourceRow>> {
    sqlx::query_as(
        "INSERT INTO sources (county, source_system, display_name, region_code, callback_url,
                              secret_enc, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT DO NOTHING
         RETURNING *",
    )
    .bind(&row.county)
    .bind(&row.source_system)
    .bind(&row.display_name)
    .bind(&row.region_code)
    .bind(&row.callback_url)
    .bind(&row.secret_enc)
    .bind(&row.created_by)
    .fetch_optional(conn)
    .await
}

/// Updates a registered (and locked) source; a None secret keeps the old one.
pub async fn update(conn: &mut PgConnection, row: &SourceRow) -> sqlx::Result<SourceRow> {
    sqlx::query_as(
        "UPDATE sources SET display_name = $3, region_code = $4, callback_url = $5,
                            secret_enc = COALESCE($6, secret_enc)
         WHERE county = $1::char(6) AND source_system = $2
         RETURNING *",
    )
    .bind(&row.county)
    .bind(&row.source_system)
    .bind(&row.display_name)
    .bind(&row.region_code)
    .bind(&row.callback_url)
    .bind(&row.secret_enc)
    .fetch_one(conn)
    .await
}

/// A source by name, in any county.
pub async fn by_name(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<SourceRow>> {
    sqlx::query_as("SELECT * FROM sources WHERE source_system = $1")
        .bind(name)
        .fetch_optional(db)
        .await
}

/// Sources whose region lies under `prefix` (or contains it).
pub async fn list(pool: &PgPool, prefix: &str) -> sqlx::Result<Vec<SourceRow>> {
    sqlx::query_as(
        "SELECT * FROM sources
         WHERE region_code LIKE $1 || '%' OR $1 LIKE region_code || '%'
         ORDER BY source_system",
    )
    .bind(prefix)
    .fetch_all(pool)
    .await
}
