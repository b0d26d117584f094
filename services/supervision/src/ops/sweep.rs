//! The overdue sweeper: announces `supervision.callback.overdue` once for
//! each open callback past its due time. Claiming and marking happen in one
//! statement with SKIP LOCKED, in the transaction that writes the events, so
//! two replicas sweeping at once never announce the same task twice.
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::{State, tasks, view::TaskChange};
use crate::store;

/// Rows claimed per transaction.
const BATCH: i64 = 500;

/// Sweeps once; returns the number of overdue events written.
pub async fn sweep_once(state: &State) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let mut tx = state.pool.begin().await?;
        let rows = store::callbacks::claim_overdue(&mut tx, Utc::now(), BATCH).await?;
        for row in &rows {
            tasks::announce(&mut tx, row, TaskChange::Overdue).await?;
        }
        tx.commit().await?;
        total += rows.len();
        if i64::try_from(rows.len()).unwrap_or(i64::MAX) < BATCH {
            return Ok(total);
        }
    }
}

/// Sweeps every `interval` until shutdown.
pub async fn run(state: State, interval: Duration, shutdown: CancellationToken) {
    loop {
        match sweep_once(&state).await {
            Ok(0) => {}
            Ok(overdue) => tracing::info!(overdue, "callback overdue sweep"),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "callback overdue sweep failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.cancelled() => break,
        }
    }
}
