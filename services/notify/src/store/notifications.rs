//! The inbox. New rows are announced on the `notify_inbox` channel
//! (NOTIFY is delivered at commit), which feeds the inbox streams of every
//! replica.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// The LISTEN/NOTIFY channel carrying `<recipient_id> <notification_id>`.
pub const INBOX_CHANNEL: &str = "notify_inbox";

/// The inbox row's recipient lies inside the caller's scope (bound as
/// `$scope`): the recipient's region in the directory, or, for someone not
/// in the directory, the notification's own region. An account whose user
/// id names someone else's recipient id outside its scope sees nothing.
macro_rules! recipient_in_scope {
    ($scope:literal) => {
        concat!(
            " AND starts_with(coalesce((SELECT r.region_code FROM recipients r
                WHERE r.county = notifications.county AND r.recipient_id = notifications.recipient_id),
                notifications.region_code), ",
            $scope,
            ")"
        )
    };
}

/// A notification row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub county: String,
    pub notification_id: Uuid,
    pub recipient_id: String,
    pub fact_key: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: String,
    pub subject_type: String,
    pub subject_id: String,
    pub region_code: String,
    pub urgent: bool,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "county, notification_id, recipient_id, fact_key, kind, title, body, link, subject_type, \
         subject_id, region_code, urgent, created_at, read_at"
    };
}

/// Inserts unless the recipient already has this fact; true when inserted
/// (and then announced to the inbox streams).
pub async fn insert(conn: &mut PgConnection, n: &NotificationRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO notifications (county, notification_id, recipient_id, fact_key, kind, title,
            body, link, subject_type, subject_id, region_code, urgent, created_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT DO NOTHING",
    )
    .bind(&n.county)
    .bind(n.notification_id)
    .bind(&n.recipient_id)
    .bind(&n.fact_key)
    .bind(&n.kind)
    .bind(&n.title)
    .bind(&n.body)
    .bind(&n.link)
    .bind(&n.subject_type)
    .bind(&n.subject_id)
    .bind(&n.region_code)
    .bind(n.urgent)
    .bind(n.created_at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(INBOX_CHANNEL)
        .bind(format!("{} {}", n.recipient_id, n.notification_id))
        .execute(conn)
        .await?;
    Ok(true)
}

/// Where an inbox page starts: after this (read flag, time, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxCursor {
    pub read: bool,
    pub created_at: DateTime<Utc>,
    pub notification_id: Uuid,
}

/// A page of `recipient_id`'s inbox within `scope`: unread first, then newest first.
pub async fn page<'e>(
    exec: impl PgExecutor<'e>,
    recipient_id: &str,
    scope: &str,
    after: Option<InboxCursor>,
    unread_only: bool,
    limit: i64,
) -> sqlx::Result<Vec<NotificationRow>> {
    let (read, at, id) = after.map_or((false, None, None), |c| {
        (c.read, Some(c.created_at), Some(c.notification_id))
    });
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM notifications
         WHERE recipient_id = $1
           AND (NOT $5 OR read_at IS NULL)
           AND ($3::timestamptz IS NULL
                OR (read_at IS NOT NULL) > $2
                OR ((read_at IS NOT NULL) = $2 AND (created_at, notification_id) < ($3, $4)))",
        recipient_in_scope!("$7"),
        "
         ORDER BY (read_at IS NOT NULL), created_at DESC, notification_id DESC
         LIMIT $6"
    ))
    .bind(recipient_id)
    .bind(read)
    .bind(at)
    .bind(id)
    .bind(unread_only)
    .bind(limit)
    .bind(scope)
    .fetch_all(exec)
    .await
}

/// One notification of a recipient, within `scope`.
pub async fn get<'e>(
    exec: impl PgExecutor<'e>,
    recipient_id: &str,
    scope: &str,
    notification_id: Uuid,
) -> sqlx::Result<Option<NotificationRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM notifications WHERE recipient_id = $1 AND notification_id = $2",
        recipient_in_scope!("$3")
    ))
    .bind(recipient_id)
    .bind(notification_id)
    .bind(scope)
    .fetch_optional(exec)
    .await
}

/// How many notifications `recipient_id` has not read, within `scope`.
pub async fn unread_count<'e>(
    exec: impl PgExecutor<'e>,
    recipient_id: &str,
    scope: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(concat!(
        "SELECT count(*) FROM notifications WHERE recipient_id = $1 AND read_at IS NULL",
        recipient_in_scope!("$2")
    ))
    .bind(recipient_id)
    .bind(scope)
    .fetch_one(exec)
    .await
}

/// Marks some (or, with `ids` None, all) of a recipient's unread
/// notifications within `scope` read; returns how many changed.
pub async fn mark_read<'e>(
    exec: impl PgExecutor<'e>,
    recipient_id: &str,
    scope: &str,
    ids: Option<&[Uuid]>,
    at: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query(concat!(
        "UPDATE notifications SET read_at = $3
         WHERE recipient_id = $1 AND read_at IS NULL
           AND ($2::uuid[] IS NULL OR notification_id = ANY($2))",
        recipient_in_scope!("$4")
    ))
    .bind(recipient_id)
    .bind(ids)
    .bind(at)
    .bind(scope)
    .execute(exec)
    .await?;
    Ok(done.rows_affected())
}
