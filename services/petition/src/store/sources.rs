//! Source systems (信访信息系统, 12345 hotlines).
use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};

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

/// Registers or updates a source (its name is its key).
pub async fn upsert(pool: &PgPool, row: &SourceRow) -> sqlx::Result<SourceRow> {
    sqlx::query_as(
        "INSERT INTO sources (county, source_system, display_name, region_code, callback_url,
                              secret_enc, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (county, source_system) DO UPDATE SET
             display_name = EXCLUDED.display_name, region_code = EXCLUDED.region_code,
             callback_url = EXCLUDED.callback_url,
             secret_enc = COALESCE(EXCLUDED.secret_enc, sources.secret_enc)
         RETURNING *",
    )
    .bind(&row.county)
    .bind(&row.source_system)
    .bind(&row.display_name)
    .bind(&row.region_code)
    .bind(&row.callback_url)
    .bind(&row.secret_enc)
    .bind(&row.created_by)
    .fetch_one(pool)
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
