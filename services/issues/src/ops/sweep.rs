//! The deadline sweeper: emits `issues.issue.due_soon` and `.overdue` once
//! per threshold and deadline, and `.sign_overdue` once for an escalation
//! its department did not sign for (签收) in time. Claiming and marking happen in one statement
//! with SKIP LOCKED, in the transaction that writes the events, so two
//! replicas sweeping at once never announce the same crossing twice. The
//! crossings are sweeps of the job engine (`zoufang_bus::jobs`).
use std::time::Duration;

use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use zoufang_bus::{
    jobs::{self, Sweep, Swept},
    outbox::{self, NewEvent},
};
use zoufang_core::{
    ServiceResult,
    auth::{Claims, roles},
};
use zoufang_proto::{
    events::v1::IssueChange,
    issues::v1::{SweepDeadlinesRequest, SweepDeadlinesResponse},
};

use super::{SYSTEM, State, view};
use crate::store::issues::{self, Mark};

/// Rows claimed per transaction.
const BATCH: usize = 500;

/// The crossings of one threshold, as a sweep of the job engine (which
/// claims them county by county).
struct Crossed<'a> {
    state: &'a State,
    mark: Mark,
    change: IssueChange,
}

impl Sweep for Crossed<'_> {
    fn name(&self) -> &'static str {
        match self.mark {
            Mark::Overdue => "issues.overdue",
            Mark::DueSoon => "issues.due_soon",
            Mark::SignOverdue => "issues.sign_overdue",
        }
    }

    async fn counties(&self) -> sqlx::Result<Vec<String>> {
        let now = self.state.clock.now();
        issues::crossed_counties(
            &self.state.pool,
            self.mark,
            now,
            now + self.state.settings.due_soon,
        )
        .await
    }

    async fn batch(
        &self,
        tx: &mut PgConnection,
        county: &str,
        limit: i64,
    ) -> anyhow::Result<Swept> {
        let now = self.state.clock.now();
        let due_soon_until = now + self.state.settings.due_soon;
        let rows = issues::claim_crossed(tx, self.mark, county, now, due_soon_until, limit).await?;
        for row in &rows {
            let note = row.deadline.map(|d| d.to_rfc3339()).unwrap_or_default();
            outbox::enqueue(
                tx,
                NewEvent::of_change(
                    &view::event(row, self.change, SYSTEM, &note),
                    &row.region_code,
                    format!("issues/{}", row.issue_id),
                )?,
            )
            .await?;
        }
        Ok(Swept {
            claimed: rows.len(),
            done: rows.len(),
        })
    }
}

/// Sweeps once; returns (due_soon, overdue, sign_overdue) events written.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn sweep_once(state: &State) -> anyhow::Result<(usize, usize, usize)> {
    let mut counts = (0, 0, 0);
    for (mark, change) in [
        (Mark::Overdue, IssueChange::Overdue),
        (Mark::DueSoon, IssueChange::DueSoon),
        (Mark::SignOverdue, IssueChange::SignOverdue),
    ] {
        let n = jobs::sweep(
            &state.pool,
            &Crossed {
                state,
                mark,
                change,
            },
            BATCH,
        )
        .await?;
        match mark {
            Mark::Overdue => counts.1 += n,
            Mark::SignOverdue => counts.2 += n,
            Mark::DueSoon => counts.0 += n,
        }
    }
    Ok(counts)
}

/// Sweeps every `interval` until shutdown.
pub async fn run(state: State, interval: Duration, shutdown: CancellationToken) {
    jobs::every(interval, None, shutdown, "deadline sweep", || async {
        let (due_soon, overdue, sign_overdue) = sweep_once(&state).await?;
        if (due_soon, overdue, sign_overdue) != (0, 0, 0) {
            tracing::info!(due_soon, overdue, sign_overdue, "deadline sweep");
        }
        Ok(())
    })
    .await;
}

/// Sweeps now, on an admin's request.
#[tracing::instrument(skip_all, err(level = "debug"))]
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
