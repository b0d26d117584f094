//! Message templates.
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// A template row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateRow {
    pub kind: String,
    pub title: String,
    pub body: String,
    pub sms_body: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

macro_rules! columns {
    () => {
        "kind, title, body, sms_body, version, updated_at, updated_by"
    };
}

/// The template of `kind`.
pub async fn get<'e>(exec: impl PgExecutor<'e>, kind: &str) -> sqlx::Result<Option<TemplateRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM templates WHERE kind = $1"
    ))
    .bind(kind)
    .fetch_optional(exec)
    .await
}

/// Every template, by kind.
pub async fn list<'e>(exec: impl PgExecutor<'e>) -> sqlx::Result<Vec<TemplateRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM templates ORDER BY kind"
    ))
    .fetch_all(exec)
    .await
}

/// Replaces a template's texts when its version is `expected` (0: any);
/// None when the kind is unknown or the version moved on.
pub async fn update<'e>(
    exec: impl PgExecutor<'e>,
    t: &TemplateRow,
    expected: i32,
) -> sqlx::Result<Option<TemplateRow>> {
    sqlx::query_as(concat!(
        "UPDATE templates SET title = $2, body = $3, sms_body = $4, version = version + 1,
            updated_at = now(), updated_by = $5
         WHERE kind = $1 AND ($6 = 0 OR version = $6)
         RETURNING ",
        columns!()
    ))
    .bind(&t.kind)
    .bind(&t.title)
    .bind(&t.body)
    .bind(&t.sms_body)
    .bind(&t.updated_by)
    .bind(expected)
    .fetch_optional(exec)
    .await
}
