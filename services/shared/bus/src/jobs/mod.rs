//! One job engine for work that waits in a table until it is due: outbound
//! deliveries (notify's messages, petition's answers to source systems) and
//! the sweepers (deadlines crossed, callbacks overdue, escalations, appeal
//! windows run out). A service implements [`Queue`] or [`Sweep`] over its
//! own store (the SQL stays there); the engine claims per county, in
//! batches, records ends with back-off ([`backoff`]), counts them in
//! `zf_jobs_total`, and runs rounds until shutdown ([`every`]).
pub mod backoff;
pub mod claim;
#[cfg(test)]
mod tests;

use std::{sync::LazyLock, time::Duration};

use prometheus::{IntCounterVec, Opts};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use claim::{End, Failure, Queue, Sweep, Swept, drain, sweep};

/// Jobs by name and outcome: a delivery's `sent`, `retry`, `failed`; a
/// sweep's `done`.
pub static JOBS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    let c = IntCounterVec::new(
        Opts::new("zf_jobs_total", "Due jobs handled by name and outcome"),
        &["job", "outcome"],
    )
    .expect("metric");
    // Registering the same name twice only happens in tests; ignore it.
    let _ = zoufang_core::metrics::REGISTRY.register(Box::new(c.clone()));
    c
});

fn count(job: &str, outcome: &str, n: usize) {
    if n > 0 {
        JOBS.with_label_values(&[job, outcome])
            .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
    }
}

/// Runs `round` at once, then every `interval` and whenever `wake` is
/// notified, until `shutdown`. A round under way finishes first (its
/// claims are recorded, not left to expire); a failed one is logged as
/// `what` and the next tick tries again.
pub async fn every<F, Fut>(
    interval: Duration,
    wake: Option<&Notify>,
    shutdown: CancellationToken,
    what: &str,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let never = Notify::new();
    let wake = wake.unwrap_or(&never);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {}
            () = wake.notified() => {}
        }
        if let Err(e) = round().await {
            tracing::warn!(error = %format!("{e:#}"), "{what} failed");
        }
    }
}
