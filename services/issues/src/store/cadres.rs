//! The ledger's directory of cadres, kept from the registry's cadre events.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A cadre as the ledger knows them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CadreRow {
    pub county: String,
    pub cadre_id: Uuid,
    pub name: String,
    /// The region prefix the cadre works in (6, 9 or 12 digits).
    pub region_code: String,
    pub as_of: DateTime<Utc>,
}

/// Applies a statement of a cadre unless a newer one was applied; true
/// when the row changed.
pub async fn upsert(conn: &mut PgConnection, c: &CadreRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO cadres (county, cadre_id, name, region_code, as_of)
         VALUES ($1::char(6), $2, $3, $4, $5)
         ON CONFLICT (county, cadre_id) DO UPDATE
           SET name = EXCLUDED.name, region_code = EXCLUDED.region_code, as_of = EXCLUDED.as_of
           WHERE cadres.as_of <= EXCLUDED.as_of",
    )
    .bind(&c.county)
    .bind(c.cadre_id)
    .bind(&c.name)
    .bind(&c.region_code)
    .bind(c.as_of)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One cadre of the county.
pub async fn get(
    ex: impl PgExecutor<'_>,
    county: &str,
    cadre_id: Uuid,
) -> sqlx::Result<Option<CadreRow>> {
    sqlx::query_as(
        "SELECT county::text AS county, cadre_id, name, region_code, as_of FROM cadres
         WHERE county = $1::char(6) AND cadre_id = $2",
    )
    .bind(county)
    .bind(cadre_id)
    .fetch_optional(ex)
    .await
}
