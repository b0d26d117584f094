//! PostgreSQL: one database (created when missing), one schema per service,
//! the runtime's own tables (outbox, inbox) and the service's migrations, both
//! embedded and run at start.
use std::{
    str::FromStr,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

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
    POOL_SIZE.store(max_connections, Ordering::Relaxed);
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // sqlx pings every connection it hands out, a round trip before
        // each call's first statement. Ping only one that sat idle for a
        // while, which is when it may have died unseen (a server restarted
        // while it waited): one in steady use proved itself moments ago,
        // and sqlx pings each on release too, dropping a broken one there.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options.options([("search_path", schema)]))
        .await
        .context("connecting to PostgreSQL")?;
    create_schema(&pool, schema).await?;
    // The bus's tables (outbox, inbox), whose migrations live with the bus
    // crate that owns them; every pool gets them, whatever the service.
    let mut runtime = sqlx::migrate!("../bus/migrations");
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

/// How long a caller waits for a free pooled connection before its request
/// fails as unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The size of the pool this process configured last (one per service
/// process; tests running several services share the figure), for the log
/// line that says the pool ran out.
static POOL_SIZE: AtomicU32 = AtomicU32::new(0);

/// Which resource ran out when the database is unavailable, for the log:
/// our own pool (every connection busy for [`ACQUIRE_TIMEOUT`]), the
/// server's `max_connections` (53300 too_many_connections), or the server
/// itself. None when `e` is not about the database being away.
pub fn unavailable_reason(e: &anyhow::Error) -> Option<String> {
    if !is_unavailable_cause(e) {
        return None;
    }
    if any_sqlx(e, &|s| matches!(s, sqlx::Error::PoolTimedOut)) {
        return Some(pool_exhausted(
            POOL_SIZE.load(Ordering::Relaxed),
            ACQUIRE_TIMEOUT,
        ));
    }
    let too_many = any_sqlx(
        e,
        &|s| matches!(s, sqlx::Error::Database(d) if d.code().as_deref() == Some(TOO_MANY_CONNECTIONS)),
    ) || e
        .chain()
        .filter_map(|c| c.downcast_ref::<sqlx::postgres::PgDatabaseError>())
        .any(|d| d.code() == TOO_MANY_CONNECTIONS);
    if too_many {
        return Some(
            "PostgreSQL refused a connection: too many clients (its max_connections is reached)"
                .into(),
        );
    }
    Some("database unavailable".into())
}

/// True when a `sqlx::Error` anywhere in `e`'s chain (or inside a
/// `ServiceError::Internal` in it) satisfies `f`.
fn any_sqlx(e: &anyhow::Error, f: &dyn Fn(&sqlx::Error) -> bool) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<sqlx::Error>().is_some_and(f)
            || matches!(
                c.downcast_ref::<crate::error::ServiceError>(),
                Some(crate::error::ServiceError::Internal(inner)) if any_sqlx(inner, f)
            )
    })
}

/// The log text of a pool that ran out.
pub fn pool_exhausted(size: u32, waited: Duration) -> String {
    format!(
        "database pool exhausted ({size} connections, waited {}s)",
        waited.as_secs()
    )
}

/// SQLSTATE 53300: the server has no connection slot left.
const TOO_MANY_CONNECTIONS: &str = "53300";

/// How long a pooled connection may sit idle before it is pinged when
/// handed out again (see `connect_and_migrate`).
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

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

/// True when `e` says the database is not there (a connection lost, refused
/// or timed out, the server shutting down, crashed or still starting), as
/// opposed to a statement that failed: the same work succeeds once the
/// database is back, so it must wait and go again instead of counting a
/// failure against the work. A PostgreSQL restart ends every session with
/// 57P01 (admin_shutdown), which sqlx reports as a database error, not an
/// I/O error.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| is_unavailable_sqlstate(&c)),
        _ => false,
    }
}

/// True when anything in `e`'s chain is a database that is away (see
/// [`is_unavailable`]): a `sqlx::Error`, PostgreSQL's own error (what a
/// `ServiceError::Internal` shows of a `sqlx::Error` in its chain), or a
/// `ServiceError::Internal` wrapping either.
pub fn is_unavailable_cause(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        if let Some(e) = cause.downcast_ref::<sqlx::Error>() {
            return is_unavailable(e);
        }
        if let Some(e) = cause.downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            return is_unavailable_sqlstate(e.code());
        }
        match cause.downcast_ref::<crate::error::ServiceError>() {
            Some(crate::error::ServiceError::Internal(inner)) => is_unavailable_cause(inner),
            _ => false,
        }
    })
}

/// SQLSTATEs of a server going away or not yet there: class 08 (connection
/// exception), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
/// cannot_connect_now, and 53300 too_many_connections (no slot left now;
/// one frees when another client leaves).
pub fn is_unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | TOO_MANY_CONNECTIONS)
}

/// True when the error is a unique violation of the named constraint.
pub fn is_unique_violation(err: &sqlx::Error, constraint: &str) -> bool {
    matches!(err, sqlx::Error::Database(e)
        if e.code().as_deref() == Some("23505") && e.constraint() == Some(constraint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_going_away_is_unavailable_a_failed_statement_is_not() {
        for code in ["57P01", "57P02", "57P03", "08000", "08006", "08P01"] {
            assert!(is_unavailable_sqlstate(code), "{code}");
        }
        // serialization failure, deadlock, unique violation, syntax error,
        // query canceled (a statement timeout): the statement's own fate.
        for code in ["40001", "40P01", "23505", "42601", "57014"] {
            assert!(!is_unavailable_sqlstate(code), "{code}");
        }
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(is_unavailable(&sqlx::Error::Io(refused)));
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
    }

    #[test]
    fn the_log_says_which_resource_ran_out() {
        let timed_out = crate::error::ServiceError::from(sqlx::Error::PoolTimedOut);
        let reason = unavailable_reason(&anyhow::Error::new(timed_out).context("a visit"))
            .expect("unavailable");
        assert!(
            reason.starts_with("database pool exhausted (") && reason.ends_with("waited 10s)"),
            "{reason}"
        );
        assert_eq!(
            pool_exhausted(6, Duration::from_secs(10)),
            "database pool exhausted (6 connections, waited 10s)"
        );
        assert!(is_unavailable_sqlstate("53300"));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            unavailable_reason(&anyhow::Error::new(sqlx::Error::Io(refused))).as_deref(),
            Some("database unavailable")
        );
        assert_eq!(
            unavailable_reason(&anyhow::Error::new(sqlx::Error::RowNotFound)),
            None
        );
    }

    #[test]
    fn a_database_away_is_found_anywhere_in_a_chain() {
        let away = || sqlx::Error::PoolTimedOut;
        assert!(is_unavailable_cause(
            &anyhow::Error::new(away()).context("recording the ledger entry")
        ));
        // A service operation's error, kept as the cause of a handler's.
        let service = crate::error::ServiceError::from(away());
        assert!(is_unavailable_cause(
            &anyhow::Error::new(service).context("from a visit")
        ));
        assert!(!is_unavailable_cause(&anyhow::Error::new(
            sqlx::Error::RowNotFound
        )));
        assert!(!is_unavailable_cause(&anyhow::anyhow!(
            "issue 1 is not in the ledger yet"
        )));
    }

    /// Needs the test PostgreSQL (TEST_PG_SERVER, default the local one).
    #[tokio::test]
    async fn a_terminated_session_is_unavailable() {
        let server = std::env::var("TEST_PG_SERVER")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let mut conn = PgConnection::connect(&format!("{server}/postgres"))
            .await
            .expect("PostgreSQL for the test");
        // What every session sees when the server stops (fast shutdown).
        let err = sqlx::query("SELECT pg_terminate_backend(pg_backend_pid())")
            .execute(&mut conn)
            .await
            .expect_err("the session is terminated");
        assert!(is_unavailable(&err), "{err:?}");
    }
}
