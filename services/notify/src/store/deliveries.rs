//! Outbound deliveries and the dispatcher's claims on them. A claim leases
//! a row (`sending`, `locked_until`); a replica that dies mid-send leaves the
//! lease to expire and the row is claimed again, so a delivery is sent at
//! least once and receivers drop repeats by the delivery id.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A delivery row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub county: String,
    pub delivery_id: Uuid,
    pub notification_id: Option<Uuid>,
    pub channel: String,
    pub target: String,
    pub fact_key: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub sms_text: String,
    pub link: String,
    pub subject_type: String,
    pub subject_id: String,
    pub region_code: String,
    pub urgent: bool,
    pub state: String,
    pub attempts: i32,
    pub next_at: DateTime<Utc>,
    pub last_error: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "county, delivery_id, notification_id, channel, target, fact_key, kind, title, body, \
         sms_text, link, subject_type, subject_id, region_code, urgent, state, attempts, next_at, \
         last_error, created_at, sent_at"
    };
}

/// Inserts unless this channel and target already have the fact; true when inserted.
pub async fn insert(conn: &mut PgConnection, d: &DeliveryRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO deliveries (county, delivery_id, notification_id, channel, target, fact_key,
            kind, title, body, sms_text, link, subject_type, subject_id, region_code, urgent,
            state, next_at, created_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,'pending',$16,$17)
         ON CONFLICT DO NOTHING",
    )
    .bind(&d.county)
    .bind(d.delivery_id)
    .bind(d.notification_id)
    .bind(&d.channel)
    .bind(&d.target)
    .bind(&d.fact_key)
    .bind(&d.kind)
    .bind(&d.title)
    .bind(&d.body)
    .bind(&d.sms_text)
    .bind(&d.link)
    .bind(&d.subject_type)
    .bind(&d.subject_id)
    .bind(&d.region_code)
    .bind(d.urgent)
    .bind(d.next_at)
    .bind(d.created_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The counties with deliveries due at `now` (or whose lease expired): a
/// read without locks, so it may ask every shard.
pub async fn due_counties<'e>(
    exec: impl PgExecutor<'e>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT county FROM deliveries
         WHERE (state = 'pending' AND next_at <= $1)
            OR (state = 'sending' AND locked_until < $1)",
    )
    .bind(now)
    .fetch_all(exec)
    .await
}

/// Leases up to `limit` of `county`'s deliveries due at `now` (and any whose
/// lease expired) until `lease_until`, counting the attempt. One county per
/// claim: Citus locks rows only in a single-shard statement.
pub async fn claim_due<'e>(
    exec: impl PgExecutor<'e>,
    county: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<DeliveryRow>> {
    sqlx::query_as(concat!(
        // Materialised so that no plan rescans the claim (a rescan would skip
        // the rows just claimed and take more than LIMIT).
        "WITH due AS MATERIALIZED (
               SELECT county, delivery_id FROM deliveries
               WHERE county = $1::char(6)
                 AND ((state = 'pending' AND next_at <= $2)
                      OR (state = 'sending' AND locked_until < $2))
               ORDER BY next_at LIMIT $4 FOR UPDATE SKIP LOCKED)
         UPDATE deliveries d SET state = 'sending', attempts = d.attempts + 1, locked_until = $3
         FROM due
         WHERE d.county = $1::char(6) AND d.county = due.county
           AND d.delivery_id = due.delivery_id
         RETURNING ",
        "d.county, d.delivery_id, d.notification_id, d.channel, d.target, d.fact_key, d.kind, \
         d.title, d.body, d.sms_text, d.link, d.subject_type, d.subject_id, d.region_code, \
         d.urgent, d.state, d.attempts, d.next_at, d.last_error, d.created_at, d.sent_at"
    ))
    .bind(county)
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(exec)
    .await
}

/// Records a delivery's end: `sent` (with the time) or `failed` (with the reason).
pub async fn finish<'e>(
    exec: impl PgExecutor<'e>,
    county: &str,
    delivery_id: Uuid,
    state: &str,
    at: DateTime<Utc>,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deliveries SET state = $3, locked_until = NULL, last_error = $5,
            sent_at = CASE WHEN $3 = 'sent' THEN $4 END
         WHERE county = $1::char(6) AND delivery_id = $2",
    )
    .bind(county)
    .bind(delivery_id)
    .bind(state)
    .bind(at)
    .bind(error)
    .execute(exec)
    .await?;
    Ok(())
}

/// Puts a failed attempt back in line for `next_at`.
pub async fn retry_at<'e>(
    exec: impl PgExecutor<'e>,
    county: &str,
    delivery_id: Uuid,
    next_at: DateTime<Utc>,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deliveries SET state = 'pending', locked_until = NULL, next_at = $3, last_error = $4
         WHERE county = $1::char(6) AND delivery_id = $2",
    )
    .bind(county)
    .bind(delivery_id)
    .bind(next_at)
    .bind(error)
    .execute(exec)
    .await?;
    Ok(())
}

/// The deliveries of some notifications.
pub async fn of_notifications<'e>(
    exec: impl PgExecutor<'e>,
    ids: &[Uuid],
) -> sqlx::Result<Vec<DeliveryRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM deliveries WHERE notification_id = ANY($1) ORDER BY created_at"
    ))
    .bind(ids)
    .fetch_all(exec)
    .await
}

/// A page of a county's deliveries under `prefix`, newest first, after a cursor.
#[allow(clippy::too_many_arguments)]
pub async fn page<'e>(
    exec: impl PgExecutor<'e>,
    county: &str,
    prefix: &str,
    state: &str,
    channel: &str,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<DeliveryRow>> {
    let (at, id) = after.map_or((None, None), |(t, i)| (Some(t), Some(i)));
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM deliveries
         WHERE county = $1::char(6) AND starts_with(region_code, $2)
           AND ($3 = '' OR state = $3 OR ($3 = 'pending' AND state = 'sending'))
           AND ($4 = '' OR channel = $4)
           AND ($5::timestamptz IS NULL OR (created_at, delivery_id) < ($5, $6))
         ORDER BY created_at DESC, delivery_id DESC LIMIT $7"
    ))
    .bind(county)
    .bind(prefix)
    .bind(state)
    .bind(channel)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(exec)
    .await
}
