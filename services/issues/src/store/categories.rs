//! The category taxonomy: built-in categories (county 000000) plus those a
//! county admin added.
use sqlx::PgExecutor;

/// A category row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryRow {
    pub name: String,
    pub builtin: bool,
}

/// Categories visible in a county: the built-in ones and the county's own.
pub async fn list(ex: impl PgExecutor<'_>, county: &str) -> sqlx::Result<Vec<CategoryRow>> {
    sqlx::query_as(
        "SELECT name, bool_or(builtin) AS builtin FROM categories
         WHERE county IN ('000000', $1) GROUP BY name ORDER BY bool_or(builtin) DESC, name",
    )
    .bind(county)
    .fetch_all(ex)
    .await
}

/// Adds a county category (no-op when it exists).
pub async fn add(ex: impl PgExecutor<'_>, county: &str, name: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO categories (county, name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(county)
        .bind(name)
        .execute(ex)
        .await?;
    Ok(())
}

/// True when the category exists for the county.
pub async fn exists(ex: impl PgExecutor<'_>, county: &str, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM categories WHERE county IN ('000000', $1) AND name = $2)",
    )
    .bind(county)
    .bind(name)
    .fetch_one(ex)
    .await
}
