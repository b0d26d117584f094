//! The two shapes of due work and how the engine drains them, one county
//! at a time: the claims lock rows (`FOR UPDATE SKIP LOCKED`, so replicas
//! split the work), and Citus locks rows only in a single-shard statement,
//! so every claim names its county (`WHERE county = $1::char(6)`). The
//! counties with due work are found first by a plain read, which may touch
//! every shard because it locks nothing.
use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

use super::{backoff, count};
use crate::retry::RetryPolicy;

/// Work whose attempts run outside the database (an HTTP push): a claim
/// leases rows and commits at once, each attempt runs, and its end is
/// recorded — done, due again later (back-off), or given up. A replica that
/// dies mid-attempt leaves its lease to expire and the row is claimed
/// again, so an attempt runs at least once.
pub trait Queue: Sync {
    /// One claimed row.
    type Job: Sync;

    /// The name in logs and in the `zf_jobs_total` metric.
    fn name(&self) -> &'static str;
    /// The time claims and retries are computed against.
    fn now(&self) -> DateTime<Utc>;
    /// How failed attempts are retried.
    fn policy(&self) -> RetryPolicy;
    /// The counties with work due at `now` (a read without locks).
    fn counties(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = sqlx::Result<Vec<String>>> + Send;
    /// Leases up to `limit` of `county`'s jobs due at `now` (or whose lease
    /// expired) until `lease_until`, counting the attempt.
    fn claim(
        &self,
        county: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<Self::Job>>> + Send;
    /// Attempts the job. `Err` is trouble on our side (the database): the
    /// round stops and the lease expires. `Ok(Err(_))` is a failed attempt.
    fn attempt(
        &self,
        job: &Self::Job,
    ) -> impl Future<Output = anyhow::Result<Result<(), Failure>>> + Send;
    /// The attempts made so far, this one included.
    fn attempts(&self, job: &Self::Job) -> u32;
    /// Records how the attempt ended, at `at`.
    fn record(
        &self,
        job: &Self::Job,
        end: &End,
        at: DateTime<Utc>,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    /// Tells the service's own metrics and logs about a recorded end.
    fn observe(&self, job: &Self::Job, end: &End);
}

/// Why an attempt failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    pub permanent: bool,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Done.
    Done,
    /// Failed; due again at `at`.
    Retry { at: DateTime<Utc>, reason: String },
    /// Failed for good.
    GaveUp { reason: String },
}

impl End {
    /// The label of the `zf_jobs_total` metric and of the services' own
    /// (`sent` is what both services call a done delivery).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Done => "sent",
            Self::Retry { .. } => "retry",
            Self::GaveUp { .. } => "failed",
        }
    }
}

/// Claims, attempts and records `queue`'s due jobs, county by county, in
/// batches of `batch` (attempted concurrently) leased for `lease`, until
/// none is due; returns how many were attempted.
pub async fn drain<Q: Queue>(queue: &Q, batch: usize, lease: Duration) -> anyhow::Result<usize> {
    let limit = i64::try_from(batch).unwrap_or(i64::MAX);
    let mut total = 0;
    for county in queue.counties(queue.now()).await? {
        // A full batch means there may be more; the county is done when one is short.
        loop {
            let now = queue.now();
            let claimed = queue.claim(&county, now, now + lease, limit).await?;
            let results =
                futures::future::join_all(claimed.iter().map(|j| attempt(queue, j))).await;
            for r in results {
                r?;
            }
            total += claimed.len();
            if claimed.len() < batch {
                break;
            }
        }
    }
    Ok(total)
}

/// One attempt of one job and its recorded end.
async fn attempt<Q: Queue>(queue: &Q, job: &Q::Job) -> anyhow::Result<()> {
    let outcome = queue.attempt(job).await?;
    let now = queue.now();
    let end = match outcome {
        Ok(()) => End::Done,
        Err(Failure { reason, permanent }) => {
            match backoff::after_failure(&queue.policy(), queue.attempts(job), permanent, now) {
                backoff::Next::RetryAt(at) => End::Retry { at, reason },
                backoff::Next::GiveUp => End::GaveUp { reason },
            }
        }
    };
    queue.record(job, &end, now).await?;
    count(queue.name(), end.label(), 1);
    queue.observe(job, &end);
    Ok(())
}

/// Work done inside the database (a deadline crossed, an escalation due):
/// claimed, handled and its events written in one transaction, so a crash
/// undoes the claim with the rest and two replicas never handle a row twice.
pub trait Sweep: Sync {
    /// The name in logs and in the `zf_jobs_total` metric.
    fn name(&self) -> &'static str;
    /// The counties with rows due (a read without locks).
    fn counties(&self) -> impl Future<Output = sqlx::Result<Vec<String>>> + Send;
    /// Claims up to `limit` of `county`'s due rows in `tx` and handles them there.
    fn batch(
        &self,
        tx: &mut PgConnection,
        county: &str,
        limit: i64,
    ) -> impl Future<Output = anyhow::Result<Swept>> + Send;
}

/// What one batch of a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Rows claimed (a full batch means there may be more).
    pub claimed: usize,
    /// Rows that needed something done (the rest were claimed and left).
    pub done: usize,
}

/// Sweeps every county with due rows, a transaction per batch of `batch`,
/// until none is due; returns how many rows needed something done.
pub async fn sweep<S: Sweep>(pool: &PgPool, sweep: &S, batch: usize) -> anyhow::Result<usize> {
    let limit = i64::try_from(batch).unwrap_or(i64::MAX);
    let mut done = 0;
    for county in sweep.counties().await? {
        loop {
            let mut tx = pool.begin().await?;
            let swept = sweep.batch(&mut tx, &county, limit).await?;
            tx.commit().await?;
            count(sweep.name(), "done", swept.done);
            done += swept.done;
            if swept.claimed < batch {
                break;
            }
        }
    }
    Ok(done)
}
