//! Finality (办结): a reply not appealed within 30 days, or a review whose
//! re-review was not asked for in time, becomes final; the source is told,
//! and the petitioner's same claim is not accepted again. A periodic sweep
//! on the service clock does it, several replicas sharing rows by SKIP LOCKED.
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{State, record::record, view};
use crate::{
    domain::{change::Change, clock::APPEAL_DAYS},
    store,
};

/// Cases settled per transaction.
const BATCH: i64 = 200;

/// Settles every case whose appeal window has run out; returns how many.
pub async fn settle_once(state: &State) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let now = state.clock.now();
        let mut tx = state.pool.begin().await?;
        let rows =
            store::cases::claim_lapsed(&mut tx, now - chrono::Duration::days(APPEAL_DAYS), BATCH)
                .await?;
        let claimed = rows.len();
        for mut row in rows {
            let settled = view::clock_of(&row).settle(now);
            if settled.stage == view::stage_of(&row) {
                continue;
            }
            view::apply_clock(&mut row, &settled);
            let saved = store::cases::save(&mut tx, &row, now).await?;
            let extras = view::Extras {
                note: format!("{APPEAL_DAYS}日内未申请复查（复核），依规办结"),
                ..Default::default()
            };
            record(&mut tx, &saved, Change::Finalized, "system", &extras, now).await?;
            total += 1;
        }
        tx.commit().await?;
        if (claimed as i64) < BATCH {
            break;
        }
    }
    if total > 0 {
        state.wake.notify_one();
    }
    Ok(total)
}

/// Settles every `interval` until shutdown.
pub async fn run(state: State, interval: Duration, shutdown: CancellationToken) {
    loop {
        match settle_once(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(settled = n, "cases became final"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "settling cases failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = shutdown.cancelled() => break,
        }
    }
}
