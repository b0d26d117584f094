//! The engine against a real table: two replicas draining one queue at once
//! attempt every job exactly once, county by county, and record each end as
//! the back-off says; two sweeps at once handle every row once.
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

use super::*;
use crate::retry::RetryPolicy;

/// A queue over `jobs_test`; an attempt counts itself in `sent` and fails
/// as the row's `fail` column says.
struct TestQueue(PgPool);

const POLICY: RetryPolicy = RetryPolicy {
    base: StdDuration::from_secs(60),
    cap: StdDuration::from_secs(600),
    max_attempts: 3,
};

#[derive(sqlx::FromRow)]
struct Row {
    county: String,
    id: i32,
    attempts: i32,
}

impl Queue for TestQueue {
    type Job = Row;

    fn name(&self) -> &'static str {
        "test.queue"
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn policy(&self) -> RetryPolicy {
        POLICY
    }

    async fn counties(&self, now: DateTime<Utc>) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT DISTINCT county FROM jobs_test WHERE state = 'pending' AND next_at <= $1",
        )
        .bind(now)
        .fetch_all(&self.0)
        .await
    }

    async fn claim(
        &self,
        county: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> sqlx::Result<Vec<Row>> {
        sqlx::query_as(
            "UPDATE jobs_test j SET state = 'sending', attempts = j.attempts + 1, locked_until = $3
             FROM (SELECT county, id FROM jobs_test
                   WHERE county = $1::char(6) AND state = 'pending' AND next_at <= $2
                   ORDER BY next_at LIMIT $4 FOR UPDATE SKIP LOCKED) due
             WHERE j.county = due.county AND j.id = due.id
             RETURNING j.county, j.id, j.attempts",
        )
        .bind(county)
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(&self.0)
        .await
    }

    async fn attempt(&self, job: &Row) -> anyhow::Result<Result<(), Failure>> {
        let fail: String = sqlx::query_scalar(
            "UPDATE jobs_test SET sent = sent + 1 WHERE county = $1::char(6) AND id = $2
             RETURNING fail",
        )
        .bind(&job.county)
        .bind(job.id)
        .fetch_one(&self.0)
        .await?;
        // Concurrent attempts overlap, as real sends do.
        tokio::time::sleep(StdDuration::from_millis(5)).await;
        Ok(match fail.as_str() {
            "no" => Ok(()),
            reason => Err(Failure {
                reason: reason.into(),
                permanent: reason == "permanent",
            }),
        })
    }

    fn attempts(&self, job: &Row) -> u32 {
        u32::try_from(job.attempts).unwrap_or(u32::MAX)
    }

    async fn record(&self, job: &Row, end: &End, at: DateTime<Utc>) -> sqlx::Result<()> {
        let (state, next_at, reason) = match end {
            End::Done => ("sent", at, ""),
            End::Retry { at: next, reason } => ("pending", *next, reason.as_str()),
            End::GaveUp { reason } => ("failed", at, reason.as_str()),
        };
        sqlx::query(
            "UPDATE jobs_test SET state = $3, next_at = $4, last_error = $5, locked_until = NULL
             WHERE county = $1::char(6) AND id = $2",
        )
        .bind(&job.county)
        .bind(job.id)
        .bind(state)
        .bind(next_at)
        .bind(reason)
        .execute(&self.0)
        .await?;
        Ok(())
    }

    fn observe(&self, _job: &Row, _end: &End) {}
}

async fn table(pool: &PgPool) {
    sqlx::query(
        "CREATE TABLE jobs_test (county char(6), id int, state text NOT NULL DEFAULT 'pending',
            attempts int NOT NULL DEFAULT 0, next_at timestamptz NOT NULL DEFAULT now(),
            locked_until timestamptz, fail text NOT NULL DEFAULT 'no',
            sent int NOT NULL DEFAULT 0, swept int NOT NULL DEFAULT 0,
            last_error text NOT NULL DEFAULT '', PRIMARY KEY (county, id))",
    )
    .execute(pool)
    .await
    .unwrap();
    // Three counties of 7 jobs; in the first, job 1 fails for a while, job
    // 2 for good, and job 3 fails at its last attempt.
    sqlx::query(
        "INSERT INTO jobs_test (county, id, fail, attempts)
         SELECT c, n, CASE WHEN c = '430426' AND n = 1 THEN 'unreachable'
                           WHEN c = '430426' AND n = 2 THEN 'permanent'
                           WHEN c = '430426' AND n = 3 THEN 'timed out' ELSE 'no' END,
                CASE WHEN c = '430426' AND n = 3 THEN 2 ELSE 0 END
         FROM unnest(ARRAY['430426', '430421', '110101']) AS c, generate_series(1, 7) AS n",
    )
    .execute(pool)
    .await
    .unwrap();
}

/// A job's row after the drains.
#[derive(sqlx::FromRow)]
struct Ended {
    county: String,
    id: i32,
    state: String,
    attempts: i32,
    sent: i32,
    next_at: DateTime<Utc>,
    last_error: String,
}

#[tokio::test]
async fn two_drains_attempt_each_job_once_and_record_its_end() {
    let db = crate::scratch::ScratchDb::new();
    let pool = db.pool("jobs_engine", 8).await;
    table(&pool).await;
    let queue = TestQueue(pool.clone());
    let before = Utc::now();
    let (a, b) = tokio::join!(
        drain(&queue, 2, Duration::seconds(60)),
        drain(&queue, 2, Duration::seconds(60))
    );
    assert_eq!(
        a.unwrap() + b.unwrap(),
        21,
        "every job attempted by one drain"
    );

    let rows: Vec<Ended> = sqlx::query_as(
        "SELECT county::text, id, state, attempts, sent, next_at, last_error FROM jobs_test
         ORDER BY county, id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for Ended {
        county,
        id,
        state,
        attempts,
        sent,
        next_at,
        last_error: error,
    } in rows
    {
        assert_eq!(sent, 1, "{county}/{id} attempted once");
        match (county.as_str(), id) {
            ("430426", 1) => {
                assert_eq!(
                    (state.as_str(), attempts, error.as_str()),
                    ("pending", 1, "unreachable")
                );
                // The first retry waits the policy's base delay.
                assert!(next_at >= before + Duration::seconds(60));
                assert!(next_at <= Utc::now() + Duration::seconds(60));
            }
            ("430426", 2) => assert_eq!((state.as_str(), error.as_str()), ("failed", "permanent")),
            ("430426", 3) => {
                assert_eq!(
                    (state.as_str(), attempts, error.as_str()),
                    ("failed", 3, "timed out")
                );
            }
            _ => assert_eq!((state.as_str(), attempts), ("sent", 1), "{county}/{id}"),
        }
    }
    let again = drain(&queue, 2, Duration::seconds(60)).await.unwrap();
    assert_eq!(again, 0, "the retry is not due yet");

    pool.close().await;
    db.drop_now().await;
}

/// A sweep marking `jobs_test` rows of a county, a few at a time.
struct TestSweep(PgPool);

impl Sweep for TestSweep {
    fn name(&self) -> &'static str {
        "test.sweep"
    }

    async fn counties(&self) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar("SELECT DISTINCT county FROM jobs_test WHERE swept = 0")
            .fetch_all(&self.0)
            .await
    }

    async fn batch(
        &self,
        tx: &mut PgConnection,
        county: &str,
        limit: i64,
    ) -> anyhow::Result<Swept> {
        let ids: Vec<i32> = sqlx::query_scalar(
            "SELECT id FROM jobs_test WHERE county = $1::char(6) AND swept = 0
             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(county)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tokio::time::sleep(StdDuration::from_millis(5)).await;
        sqlx::query(
            "UPDATE jobs_test SET swept = swept + 1 WHERE county = $1::char(6) AND id = ANY($2)",
        )
        .bind(county)
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        // Odd ids need doing, even ones are claimed and left.
        Ok(Swept {
            claimed: ids.len(),
            done: ids.iter().filter(|i| *i % 2 == 1).count(),
        })
    }
}

#[tokio::test]
async fn two_sweeps_handle_each_row_once() {
    let db = crate::scratch::ScratchDb::new();
    let pool = db.pool("jobs_sweep", 8).await;
    table(&pool).await;
    let sweep_ = TestSweep(pool.clone());
    let (a, b) = tokio::join!(sweep(&pool, &sweep_, 3), sweep(&pool, &sweep_, 3));
    assert_eq!(
        a.unwrap() + b.unwrap(),
        12,
        "four odd ids in each of three counties"
    );
    let swept: Vec<i32> = sqlx::query_scalar("SELECT swept FROM jobs_test")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(swept, vec![1; 21]);

    pool.close().await;
    db.drop_now().await;
}
