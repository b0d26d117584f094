//! A service's clock. Quiet hours, escalation steps, digests and statutory
//! deadlines depend on the time, so services read it through this one value:
//! the system clock in production, a settable one in tests that must see
//! 23:00 turn into 07:00, or 60 days pass, without waiting.
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// Where "now" comes from.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock standing at `start` until set or advanced.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Mutex::new(start))))
    }

    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(t) => *t.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        }
    }

    /// Moves a manual clock to `t` (no effect on the system clock).
    pub fn set(&self, t: DateTime<Utc>) {
        if let Some(cell) = &self.0 {
            *cell
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = t;
        }
    }

    /// Moves a manual clock forward.
    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = Utc::now() - Duration::days(3);
        let c = Clock::manual(start);
        assert_eq!(c.now(), start);
        c.advance(Duration::hours(8));
        assert_eq!(c.now(), start + Duration::hours(8));
        let shared = c.clone();
        shared.set(start);
        assert_eq!(c.now(), start);
    }
}
