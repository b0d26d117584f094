//! The deadline sweeper: emits `issues.issue.due_soon` and `.overdue` once
//! per threshold and deadline, and `.sign_overdue` once for an escalation
//! its department did not sign for (签收) in time. Claiming and marking happen in one statement
//! with SKIP LOCKED, in the transaction that writes the events, so two
//! replicas sweeping at once never announce the same crossing twice.
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use zoufang_proto::issues::v1::{SweepDeadlinesRequest, SweepDeadlinesResponse};
use zoufang_runtime::{
    ServiceResult,
    auth::{Claims, roles},
    outbox::{self, NewEvent},
};

use super::{SYSTEM, State, view};
use crate::{
    routing_key,
    store::issues::{self, Mark},
};

/// Rows claimed per transaction.
const BATCH: i64 = 500;

/// Sweeps once; returns (due_soon, overdue, sign_overdue) events written.
pub async fn sweep_once(state: &State) -> anyhow::Result<(usize, usize, usize)> {
    let mut counts = (0, 0, 0);
    for (mark, verb) in [
        (Mark::Overdue, "overdue"),
        (Mark::DueSoon, "due_soon"),
        (Mark::SignOverdue, "sign_overdue"),
    ] {
        loop {
            let now = Utc::now();
            let mut tx = state.pool.begin().await?;
            let rows =
                issues::claim_crossed(&mut tx, mark, now, now + state.settings.due_soon, BATCH)
                    .await?;
            for row in &rows {
                let note = row.deadline.map(|d| d.to_rfc3339()).unwrap_or_default();
                outbox::enqueue(
                    &mut tx,
                    NewEvent::new(
                        routing_key(verb),
                        &row.region_code,
                        format!("issues/{}", row.issue_id),
                        &view::event(row, verb, SYSTEM, &note),
                    ),
                )
                .await?;
            }
            tx.commit().await?;
            match mark {
                Mark::Overdue => counts.1 += rows.len(),
                Mark::SignOverdue => counts.2 += rows.len(),
                Mark::DueSoon => counts.0 += rows.len(),
            }
            if (rows.len() as i64) < BATCH {
                break;
            }
        }
    }
    Ok(counts)
}

/// Sweeps every `interval` until shutdown.
pub async fn run(state: State, interval: Duration, shutdown: CancellationToken) {
    loop {
        match sweep_once(&state).await {
            Ok((0, 0, 0)) => {}
            Ok((due_soon, overdue, sign_overdue)) => {
                tracing::info!(due_soon, overdue, sign_overdue, "deadline sweep")
            }
            Err(e) => tracing::warn!(error = format!("{e:#}"), "deadline sweep failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.cancelled() => break,
        }
    }
}

/// Sweeps now, on an admin's request.
pub async fn sweep_rpc(
    state: &State,
    claims: &Claims,
    _req: SweepDeadlinesRequest,
) -> ServiceResult<SweepDeadlinesResponse> {
    claims.require_any_role(&[roles::COUNTY_ADMIN, roles::SERVICE])?;
    let (due_soon, overdue, sign_overdue) = sweep_once(state).await?;
    Ok(SweepDeadlinesResponse {
        due_soon: due_soon as i32,
        overdue: overdue as i32,
        sign_overdue: sign_overdue as i32,
    })
}
