//! Per-recipient preferences.
use sqlx::{PgConnection, PgExecutor};

/// A preferences row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PreferencesRow {
    pub county: String,
    pub recipient_id: String,
    pub sms_enabled: bool,
    pub digest_enabled: bool,
    pub quiet_start_minute: i32,
    pub quiet_end_minute: i32,
    pub muted_kinds: Vec<String>,
}

macro_rules! columns {
    () => {
        "county, recipient_id, sms_enabled, digest_enabled, quiet_start_minute, quiet_end_minute, \
         muted_kinds"
    };
}

/// The stored preferences, if any were set.
pub async fn get<'e>(
    exec: impl PgExecutor<'e>,
    county: &str,
    recipient_id: &str,
) -> sqlx::Result<Option<PreferencesRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM preferences WHERE county = $1::char(6) AND recipient_id = $2"
    ))
    .bind(county)
    .bind(recipient_id)
    .fetch_optional(exec)
    .await
}

/// Stores preferences, replacing earlier ones.
pub async fn upsert(conn: &mut PgConnection, p: &PreferencesRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO preferences (county, recipient_id, sms_enabled, digest_enabled,
            quiet_start_minute, quiet_end_minute, muted_kinds)
         VALUES ($1,$2,$3,$4,$5,$6,$7)
         ON CONFLICT (county, recipient_id) DO UPDATE SET
            sms_enabled = EXCLUDED.sms_enabled, digest_enabled = EXCLUDED.digest_enabled,
            quiet_start_minute = EXCLUDED.quiet_start_minute,
            quiet_end_minute = EXCLUDED.quiet_end_minute, muted_kinds = EXCLUDED.muted_kinds",
    )
    .bind(&p.county)
    .bind(&p.recipient_id)
    .bind(p.sms_enabled)
    .bind(p.digest_enabled)
    .bind(p.quiet_start_minute)
    .bind(p.quiet_end_minute)
    .bind(&p.muted_kinds)
    .execute(conn)
    .await?;
    Ok(())
}
