//! Retry timing of failed outbound deliveries (notifications, petition
//! answers): exponential back-off with a cap.
use std::time::Duration;

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure; doubles with each further failure.
    pub base: Duration,
    /// The longest delay between two attempts.
    pub cap: Duration,
    /// Attempts in all before the delivery is failed with its last reason.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(30 * 60),
            max_attempts: 8,
        }
    }
}

/// What to do after attempt number `attempts` (1-based) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again after this delay.
    RetryIn(Duration),
    /// Give up: mark the delivery failed.
    GiveUp,
}

impl RetryPolicy {
    /// The decision after `attempts` failed attempts; permanent failures
    /// (a bad robot key, a 4xx) are not retried.
    pub fn after_failure(&self, attempts: u32, permanent: bool) -> AfterFailure {
        if permanent || attempts >= self.max_attempts {
            return AfterFailure::GiveUp;
        }
        let exp = attempts.saturating_sub(1).min(30);
        let delay = self.base.saturating_mul(1u32 << exp).min(self.cap);
        AfterFailure::RetryIn(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(60),
            max_attempts: 6,
        }
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let p = policy();
        let delays: Vec<_> = (1..6)
            .map(|n| match p.after_failure(n, false) {
                AfterFailure::RetryIn(d) => d.as_secs(),
                AfterFailure::GiveUp => 0,
            })
            .collect();
        assert_eq!(delays, vec![2, 4, 8, 16, 32]);
        let capped = RetryPolicy {
            max_attempts: 40,
            ..p
        };
        assert_eq!(
            capped.after_failure(30, false),
            AfterFailure::RetryIn(Duration::from_secs(60))
        );
    }

    #[test]
    fn gives_up_at_the_cap_or_on_permanent_failures() {
        let p = policy();
        assert_eq!(p.after_failure(6, false), AfterFailure::GiveUp);
        assert_eq!(p.after_failure(1, true), AfterFailure::GiveUp);
    }
}
