//! When a failed job runs again: the retry policy's decision turned into a
//! time. Pure, so the whole timing is tested here without a database.
use chrono::{DateTime, Duration, Utc};

use crate::retry::{AfterFailure, RetryPolicy};

/// A delay beyond what `chrono` can add (never from a sane policy) waits this long.
const FALLBACK_DELAY_MINUTES: i64 = 30;

/// What becomes of a job whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Due again at this time.
    RetryAt(DateTime<Utc>),
    /// Failed for good.
    GiveUp,
}

/// The fate of a job after its attempt number `attempts` (1-based, the
/// one that failed at `now`); `permanent` failures are not retried.
pub fn after_failure(
    policy: &RetryPolicy,
    attempts: u32,
    permanent: bool,
    now: DateTime<Utc>,
) -> Next {
    match policy.after_failure(attempts, permanent) {
        AfterFailure::GiveUp => Next::GiveUp,
        AfterFailure::RetryIn(delay) => Next::RetryAt(
            now + Duration::from_std(delay)
                .unwrap_or_else(|_| Duration::minutes(FALLBACK_DELAY_MINUTES)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration as StdDuration;

    use chrono::TimeZone;

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base: StdDuration::from_secs(5),
            cap: StdDuration::from_secs(60),
            max_attempts: 4,
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0)
            .single()
            .expect("a time")
    }

    #[test]
    fn retries_double_from_the_failure_time_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            ..policy()
        };
        let next: Vec<_> = (1..=6)
            .map(|n| after_failure(&p, n, false, at(0)))
            .collect();
        assert_eq!(
            next,
            [5, 10, 20, 40, 60, 60]
                .map(|s| Next::RetryAt(at(s)))
                .to_vec()
        );
    }

    #[test]
    fn gives_up_at_the_last_attempt_or_on_a_permanent_failure() {
        let p = policy();
        assert_eq!(after_failure(&p, 3, false, at(0)), Next::RetryAt(at(20)));
        assert_eq!(after_failure(&p, 4, false, at(0)), Next::GiveUp);
        assert_eq!(after_failure(&p, 1, true, at(0)), Next::GiveUp);
    }

    #[test]
    fn a_delay_too_long_for_a_timestamp_waits_the_fallback() {
        let p = RetryPolicy {
            base: StdDuration::MAX,
            cap: StdDuration::MAX,
            max_attempts: 3,
        };
        assert_eq!(
            after_failure(&p, 1, false, at(0)),
            Next::RetryAt(at(FALLBACK_DELAY_MINUTES * 60))
        );
    }
}
