//! The append-only timeline of every change to an issue.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// One timeline entry to write.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub county: &'a str,
    pub issue_id: Uuid,
    pub actor: &'a str,
    pub action: &'a str,
    pub from_state: &'a str,
    pub to_state: &'a str,
    pub note: &'a str,
    pub related_issue_id: Option<Uuid>,
}

/// A stored entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub note: String,
    pub related_issue_id: Option<Uuid>,
}

/// Appends an entry.
pub async fn append(conn: &mut PgConnection, e: &NewEntry<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO issue_timeline (county, issue_id, actor, action, from_state, to_state, note, related_issue_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.county)
    .bind(e.issue_id)
    .bind(e.actor)
    .bind(e.action)
    .bind(e.from_state)
    .bind(e.to_state)
    .bind(e.note)
    .bind(e.related_issue_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// An issue's timeline, oldest first.
pub async fn of(
    ex: impl PgExecutor<'_>,
    county: &str,
    issue_id: Uuid,
) -> sqlx::Result<Vec<EntryRow>> {
    sqlx::query_as(
        "SELECT at, actor, action, from_state, to_state, note, related_issue_id
         FROM issue_timeline WHERE county = $1::char(6) AND issue_id = $2 ORDER BY seq",
    )
    .bind(county)
    .bind(issue_id)
    .fetch_all(ex)
    .await
}
