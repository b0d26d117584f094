//! Finality (办结): a reply not appealed within 30 days, or a review whose
//! re-review was not asked for in time, becomes final; the source is told,
//! and the petitioner's same claim is not accepted again. A periodic sweep
//! on the service clock does it, several replicas sharing rows by SKIP LOCKED.
use std::time::Duration;

use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use zoufang_bus::jobs::{self, Sweep, Swept};

use super::{State, record::record, view};
use crate::{
    domain::{change::Change, clock::APPEAL_DAYS},
    store,
};

/// Cases settled per transaction.
const BATCH: usize = 200;

/// The cases whose appeal window has run out, as a sweep of the job engine
/// (which claims them county by county).
struct Lapsed<'a>(&'a State);

impl Lapsed<'_> {
    /// Answers before this have had their appeal window run out.
    fn answered_before(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        now - chrono::Duration::days(APPEAL_DAYS)
    }
}

impl Sweep for Lapsed<'_> {
    fn name(&self) -> &'static str {
        "petition.settle"
    }

    async fn counties(&self) -> sqlx::Result<Vec<String>> {
        let before = self.answered_before(self.0.clock.now());
        store::cases::lapsed_counties(&self.0.pool, before).await
    }

    async fn batch(
        &self,
        tx: &mut PgConnection,
        county: &str,
        limit: i64,
    ) -> anyhow::Result<Swept> {
        let at = self.0.at();
        let now = at.case;
        let rows = store::cases::claim_lapsed(tx, county, self.answered_before(now), limit).await?;
        let mut swept = Swept {
            claimed: rows.len(),
            done: 0,
        };
        for mut row in rows {
            let settled = view::clock_of(&row).settle(now);
            if settled.stage == view::stage_of(&row) {
                continue;
            }
            view::apply_clock(&mut row, &settled);
            let saved = store::cases::save(tx, &row, now).await?;
            let extras = view::Extras {
                note: format!("{APPEAL_DAYS}日内未申请复查（复核），依规办结"),
                ..Default::default()
            };
            record(tx, &saved, Change::Finalized, "system", &extras, at).await?;
            swept.done += 1;
        }
        Ok(swept)
    }
}

/// Settles every case whose appeal window has run out; returns how many.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn settle_once(state: &State) -> anyhow::Result<usize> {
    let total = jobs::sweep(&state.pool, &Lapsed(state), BATCH).await?;
    if total > 0 {
        // Finality is answered to the sources: wake the answer dispatcher.
        state.wake.notify_one();
    }
    Ok(total)
}

/// Settles every `interval` until shutdown.
pub async fn run(state: State, interval: Duration, shutdown: CancellationToken) {
    jobs::every(interval, None, shutdown, "settling cases", || async {
        let settled = settle_once(&state).await?;
        if settled > 0 {
            tracing::info!(settled, "cases became final");
        }
        Ok(())
    })
    .await;
}
