//! The recipient directory (who holds which role where).
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

/// A recipient row; the phone is encrypted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecipientRow {
    pub county: String,
    pub recipient_id: String,
    pub name: String,
    pub roles: Vec<String>,
    pub region_code: String,
    pub scope: String,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_masked: String,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "county, recipient_id, name, roles, region_code, scope, phone_enc, phone_masked, active, \
         updated_at"
    };
}

/// The stored row of a county's recipient, locked until the transaction ends,
/// so the scope check and the write see the same row.
pub async fn lock(
    conn: &mut PgConnection,
    county: &str,
    recipient_id: &str,
) -> sqlx::Result<Option<RecipientRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM recipients WHERE county = $1::char(6) AND recipient_id = $2 FOR UPDATE"
    ))
    .bind(county)
    .bind(recipient_id)
    .fetch_optional(conn)
    .await
}

/// Inserts or updates; a row without a phone keeps the stored one. An
/// existing row is updated only when its stored region starts with
/// `writer_scope` (checked in the same statement, so a row inserted by a
/// concurrent caller after [`lock`] found none is not overwritten either);
/// None when that refused the update.
pub async fn upsert(
    conn: &mut PgConnection,
    r: &RecipientRow,
    writer_scope: &str,
) -> sqlx::Result<Option<RecipientRow>> {
    sqlx::query_as(concat!(
        "INSERT INTO recipients (county, recipient_id, name, roles, region_code, scope,
            phone_enc, phone_masked, active, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,now())
         ON CONFLICT (county, recipient_id) DO UPDATE SET
            name = EXCLUDED.name, roles = EXCLUDED.roles, region_code = EXCLUDED.region_code,
            scope = EXCLUDED.scope,
            phone_enc = COALESCE(EXCLUDED.phone_enc, recipients.phone_enc),
            phone_masked = CASE WHEN EXCLUDED.phone_enc IS NULL THEN recipients.phone_masked
                                ELSE EXCLUDED.phone_masked END,
            active = EXCLUDED.active, updated_at = now()
         WHERE starts_with(recipients.region_code, $10)
         RETURNING ",
        columns!()
    ))
    .bind(&r.county)
    .bind(&r.recipient_id)
    .bind(&r.name)
    .bind(&r.roles)
    .bind(&r.region_code)
    .bind(&r.scope)
    .bind(&r.phone_enc)
    .bind(&r.phone_masked)
    .bind(r.active)
    .bind(writer_scope)
    .fetch_optional(conn)
    .await
}

/// One recipient of a county.
pub async fn get<'e>(
    exec: impl PgExecutor<'e>,
    county: &str,
    recipient_id: &str,
) -> sqlx::Result<Option<RecipientRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM recipients WHERE county = $1::char(6) AND recipient_id = $2"
    ))
    .bind(county)
    .bind(recipient_id)
    .fetch_optional(exec)
    .await
}

/// The active holders of `role` whose scope covers `region_code`.
pub async fn holders(
    conn: &mut PgConnection,
    county: &str,
    role: &str,
    region_code: &str,
) -> sqlx::Result<Vec<RecipientRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM recipients
         WHERE county = $1::char(6) AND active AND $2 = ANY(roles) AND starts_with($3, scope)
         ORDER BY recipient_id"
    ))
    .bind(county)
    .bind(role)
    .bind(region_code)
    .fetch_all(conn)
    .await
}

/// A page of a county's recipients under `prefix`, optionally with `role`, after `after_id`.
pub async fn list<'e>(
    exec: impl PgExecutor<'e>,
    county: &str,
    prefix: &str,
    role: &str,
    after_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<RecipientRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM recipients
         WHERE county = $1::char(6) AND starts_with(region_code, $2)
           AND ($3 = '' OR $3 = ANY(roles)) AND recipient_id > $4
         ORDER BY recipient_id LIMIT $5"
    ))
    .bind(county)
    .bind(prefix)
    .bind(role)
    .bind(after_id)
    .bind(limit)
    .fetch_all(exec)
    .await
}

/// A recipient by id alone, in whichever county they serve.
pub async fn find<'e>(
    exec: impl PgExecutor<'e>,
    recipient_id: &str,
) -> sqlx::Result<Option<RecipientRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM recipients WHERE recipient_id = $1 ORDER BY active DESC, updated_at DESC LIMIT 1"
    ))
    .bind(recipient_id)
    .fetch_optional(exec)
    .await
}
