//! PostgreSQL: one database (created when missing), one schema per service,
//! the runtime's own tables (outbox, inbox) and the service's migrations, both
//! embedded and run at start.
use std::{str::FromStr, time::Duration};

use anyhow::Context as _;
use sqlx::{
    AssertSqlSafe, ConnectOptions, Connection, Executor, PgConnection, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

/// Connects to `database_url` with `search_path` set to `schema`, creating
/// the database and the schema when missing, then runs the runtime's
/// migrations and `migrator` (the service's own) inside that schema.
pub async fn connect_and_migrate(
    database_url: &str,
    schema: &str,
    max_connections: u32,
    migrator: &Migrator,
) -> anyhow::Result<PgPool> {
    anyhow::ensure!(
        !schema.is_empty() && schema.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "schema name {schema:?} must be lowercase letters and underscores"
    );
    let options = PgConnectOptions::from_str(database_url)
        .with_context(|| format!("DATABASE_URL {database_url:?} is not a valid URL"))?;
    ensure_database(&options).await?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.options([("search_path", schema)]))
        .await
        .context("connecting to PostgreSQL")?;
    create_schema(&pool, schema).await?;
    let mut runtime = sqlx::migrate!("./migrations");
    runtime.dangerous_set_table_name("_zf_runtime_migrations");
    runtime
        .run(&pool)
        .await
        .context("running runtime migrations (outbox, inbox)")?;
    migrator
        .run(&pool)
        .await
        .context("running the service's migrations")?;
    Ok(pool)
}

async fn create_schema(pool: &PgPool, schema: &str) -> anyhow::Result<()> {
    // Two replicas starting together may race; the loser sees a unique violation.
    match pool
        .execute(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .await
    {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => Ok(()),
        Err(e) => Err(e).context("creating the schema"),
    }
}

async fn ensure_database(options: &PgConnectOptions) -> anyhow::Result<()> {
    let name = options.get_database().unwrap_or("postgres").to_owned();
    let mut admin: PgConnection = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .context("connecting to PostgreSQL (database postgres)")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let quoted = name.replace('"', "\"\"");
        match admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE \"{quoted}\"")))
            .await
        {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // 42P04 duplicate_database, 23505 unique_violation: someone else won the race.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) => {}
            Err(e) => return Err(e).context("creating the database"),
        }
    }
    admin.close().await.ok();
    Ok(())
}

/// True when the error is a unique violation of the named constraint.
pub fn is_unique_violation(err: &sqlx::Error, constraint: &str) -> bool {
    matches!(err, sqlx::Error::Database(e)
        if e.code().as_deref() == Some("23505") && e.constraint() == Some(constraint))
}
