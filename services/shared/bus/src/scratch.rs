//! A throwaway database for the runtime's own tests, on the test server
//! (TEST_PG_SERVER, default the local one), named like the end-to-end
//! tests' (`zft<secs>x<random>`) so their clean-up drops what a crashed run
//! leaves.
use sqlx::{Connection, Executor, PgPool};

/// A name no other test run uses, `zft<secs>x<random>` like the end-to-end
/// tests' databases and queues, so their clean-up removes what a crashed
/// run leaves.
pub fn unique_name() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!(
        "zft{secs}x{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// A database made for one test; [`ScratchDb::drop_now`] removes it.
pub struct ScratchDb {
    server: String,
    /// Its name (also unique enough to name the test's queues).
    pub name: String,
}

impl ScratchDb {
    /// A fresh name on the test server; the database is created by the
    /// first [`ScratchDb::pool`].
    pub fn new() -> Self {
        let server = std::env::var("TEST_PG_SERVER")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        Self {
            server,
            name: unique_name(),
        }
    }

    /// A pool on `schema` of this database, with the runtime's migrations
    /// run, as a service would open it.
    pub async fn pool(&self, schema: &str, max_connections: u32) -> PgPool {
        zoufang_core::db::connect_and_migrate(
            &format!("{}/{}", self.server, self.name),
            schema,
            max_connections,
            &sqlx::migrate::Migrator::DEFAULT,
        )
        .await
        .expect("PostgreSQL for the test")
    }

    /// Drops the database, whoever is still connected.
    pub async fn drop_now(self) {
        let mut admin = sqlx::PgConnection::connect(&format!("{}/postgres", self.server))
            .await
            .unwrap();
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            )))
            .await
            .unwrap();
    }
}
