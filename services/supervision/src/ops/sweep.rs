//! The overdue sweeper: announces `supervision.callback.overdue` once for
//! each open callback past its due time. Claiming and marking happen in one
//! statement with SKIP LOCKED, in the transaction that writes the events, so
//! two replicas sweeping at once never announce the same task twice.
use std::time::Duration;

use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use zoufang_bus::jobs::{self, Sweep, Swept};

use super::{State, tasks, view::TaskChange};
use crate::store;

/// Rows claimed per transaction.
const BATCH: usize = 500;

/// The overdue callbacks as a sweep of the job engine (which claims them
/// county by county).
struct Overdue<'a>(&'a State);

impl Sweep for Overdue<'_> {
    fn name(&self) -> &'static str {
        "supervision.callback_overdue"
    }

    async fn counties(&self) -> sqlx::Result<Vec<String>> {
        store::callbacks::overdue_counties(&self.0.pool, self.0.clock.now()).await
    }

    async fn batch(
        &self,
        tx: &mut PgConnection,
        county: &str,
        limit: i64,
    ) -> anyhow::Result<Swept> {
        let rows = store::callbacks::claim_overdue(tx, county, self.0.clock.now(), limit).await?;
        for row in &rows {
            tasks::announce(tx, row, TaskChange::Overdue).await?;
        }
        Ok(Swept {
            claimed: rows.len(),
            done: rows.len(),
        })
    }
}

/// Sweeps once; returns the number of overdue events written.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn sweep_once(state: &State) -> anyhow::Result<usize> {
    jobs::sweep(&state.pool, &Overdue(state), BATCH).await
}

/// Sweeps every `interval` until shutdown.
pub async fn run(state: State, interval: Duration, shutdown: CancellationToken) {
    jobs::every(
        interval,
        None,
        shutdown,
        "callback overdue sweep",
        || async {
            let overdue = sweep_once(&state).await?;
            if overdue > 0 {
                tracing::info!(overdue, "callback overdue sweep");
            }
            Ok(())
        },
    )
    .await;
}
