//! Cadres (干部).
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A cadre row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CadreRow {
    pub county: String,
    pub cadre_id: Uuid,
    pub name: String,
    pub phone_cipher: Option<Vec<u8>>,
    pub unit: i16,
    pub position: String,
    pub region_code: String,
    pub roles: Vec<String>,
    pub body_hash: Vec<u8>,
}

macro_rules! columns {
    () => {
        "county, cadre_id, name, phone_cipher, unit, position, region_code, roles, body_hash"
    };
}

/// Inserts unless the id exists; true when inserted.
pub async fn insert(
    conn: &mut PgConnection,
    c: &CadreRow,
    phone_hash: Option<&[u8]>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO cadres (county, cadre_id, name, phone_cipher, phone_hash, unit, position,
                             region_code, roles, body_hash)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (county, cadre_id) DO NOTHING",
    )
    .bind(&c.county)
    .bind(c.cadre_id)
    .bind(&c.name)
    .bind(&c.phone_cipher)
    .bind(phone_hash)
    .bind(c.unit)
    .bind(&c.position)
    .bind(&c.region_code)
    .bind(&c.roles)
    .bind(&c.body_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One cadre.
pub async fn get(
    ex: impl PgExecutor<'_>,
    county: &str,
    cadre_id: Uuid,
) -> sqlx::Result<Option<CadreRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM cadres WHERE county = $1::char(6) AND cadre_id = $2"
    ))
    .bind(county)
    .bind(cadre_id)
    .fetch_optional(ex)
    .await
}

/// Cadres whose region starts with `prefix`.
pub async fn list(ex: impl PgExecutor<'_>, prefix: &str) -> sqlx::Result<Vec<CadreRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM cadres WHERE region_code LIKE $1 ORDER BY name, cadre_id"
    ))
    .bind(super::like_prefix(prefix))
    .fetch_all(ex)
    .await
}

/// Cadres of `county` whose region starts with `prefix` (the county's
/// cadres within a region, for announcing them), ordered by id.
pub async fn within(
    ex: impl PgExecutor<'_>,
    county: &str,
    prefix: &str,
) -> sqlx::Result<Vec<CadreRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM cadres WHERE county = $1::char(6) AND region_code LIKE $2 ORDER BY cadre_id"
    ))
    .bind(county)
    .bind(super::like_prefix(prefix))
    .fetch_all(ex)
    .await
}

/// Which of `ids` are registered cadres of the county.
pub async fn existing_ids(
    ex: impl PgExecutor<'_>,
    county: &str,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT cadre_id FROM cadres WHERE county = $1::char(6) AND cadre_id = ANY($2)",
    )
    .bind(county)
    .bind(ids)
    .fetch_all(ex)
    .await
}
