//! Import jobs expire: their error reports quote rows of people's files, so
//! a job and its errors are deleted `IMPORT_RETENTION_DAYS` after it was
//! last touched, by a sweep the gateway runs at start and then hourly.
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::store;

/// Time between sweeps.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Sweeps now and every [`SWEEP_EVERY`] until `shutdown`.
pub async fn sweep_old_jobs(pool: sqlx::PgPool, days: u32, shutdown: CancellationToken) {
    loop {
        match store::expire(&pool, days).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                jobs = n,
                days,
                "expired old import jobs and their error reports"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not expire old import jobs; retrying at the next sweep")
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(SWEEP_EVERY) => {}
        }
    }
}
