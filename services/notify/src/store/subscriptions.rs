//! Group-robot and webhook subscriptions.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A subscription row; the secret is encrypted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub county: String,
    pub subscription_id: Uuid,
    pub name: String,
    pub channel: String,
    pub region_code: String,
    pub scope: String,
    pub url: String,
    pub secret_enc: Option<Vec<u8>>,
    pub kinds: Vec<String>,
    pub active: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "county, subscription_id, name, channel, region_code, scope, url, secret_enc, kinds, \
         active, created_by, created_at"
    };
}

/// Inserts unless the id exists; true when inserted.
pub async fn insert(conn: &mut PgConnection, s: &SubscriptionRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO subscriptions (county, subscription_id, name, channel, region_code, scope,
            url, secret_enc, kinds, active, created_by)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING",
    )
    .bind(&s.county)
    .bind(s.subscription_id)
    .bind(&s.name)
    .bind(&s.channel)
    .bind(&s.region_code)
    .bind(&s.scope)
    .bind(&s.url)
    .bind(&s.secret_enc)
    .bind(&s.kinds)
    .bind(s.active)
    .bind(&s.created_by)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One subscription by id (any county).
pub async fn get<'e>(exec: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<Option<SubscriptionRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM subscriptions WHERE subscription_id = $1"
    ))
    .bind(id)
    .fetch_optional(exec)
    .await
}

/// A county's subscriptions under `prefix`, newest first.
pub async fn list<'e>(
    exec: impl PgExecutor<'e>,
    county: &str,
    prefix: &str,
) -> sqlx::Result<Vec<SubscriptionRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM subscriptions WHERE county = $1::char(6) AND starts_with(region_code, $2)
         ORDER BY created_at DESC, subscription_id"
    ))
    .bind(county)
    .bind(prefix)
    .fetch_all(exec)
    .await
}

/// The active subscriptions covering `region_code` that take `kind`.
pub async fn matching(
    conn: &mut PgConnection,
    county: &str,
    region_code: &str,
    kind: &str,
) -> sqlx::Result<Vec<SubscriptionRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM subscriptions
         WHERE county = $1::char(6) AND active AND starts_with($2, scope)
           AND (kinds = '{}' OR $3 = ANY(kinds))
         ORDER BY subscription_id"
    ))
    .bind(county)
    .bind(region_code)
    .bind(kind)
    .fetch_all(conn)
    .await
}

/// Turns a subscription off; its pending deliveries fail when their turn comes.
pub async fn disable<'e>(
    exec: impl PgExecutor<'e>,
    county: &str,
    id: Uuid,
) -> sqlx::Result<Option<SubscriptionRow>> {
    sqlx::query_as(concat!(
        "UPDATE subscriptions SET active = false WHERE county = $1::char(6) AND subscription_id = $2
         RETURNING ",
        columns!()
    ))
    .bind(county)
    .bind(id)
    .fetch_optional(exec)
    .await
}
