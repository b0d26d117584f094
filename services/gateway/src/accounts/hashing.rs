//! A bound on concurrent password hashing. Every argon2 hash or check takes
//! ~19 MiB for its duration, so unbounded parallel sign-ins (even for
//! unknown users, whose timing is equalised with a hash) grew the gateway
//! by gigabytes. Work takes a permit first; a request that cannot get one
//! within the wait answers 503 instead of queueing without end.
use std::{sync::Arc, time::Duration};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// The permits (one per core by default) and how long a request waits for one.
#[derive(Debug)]
pub struct Hashing {
    permits: Arc<Semaphore>,
    wait: Duration,
}

/// Leave to hash once; the work runs on the blocking pool and holds the
/// permit until it is done, even when the client has gone away meanwhile.
#[derive(Debug)]
pub struct Permit(OwnedSemaphorePermit);

/// The answer when every permit stays taken for the whole wait.
pub fn busy() -> ApiError {
    ApiError::new(
        http::StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "登录请求过多，系统繁忙，请稍后再试",
    )
}

impl Hashing {
    /// `concurrency` 0 means one per available core.
    pub fn new(concurrency: usize, wait: Duration) -> Self {
        let n = if concurrency == 0 {
            std::thread::available_parallelism().map_or(2, usize::from)
        } else {
            concurrency
        };
        Self {
            permits: Arc::new(Semaphore::new(n)),
            wait,
        }
    }

    /// Waits up to the configured time for a permit.
    pub async fn permit(&self) -> Result<Permit, ApiError> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(Permit(p)),
            Ok(Err(closed)) => Err(ApiError::internal(closed)),
            Err(_) => Err(busy()),
        }
    }
}

impl Permit {
    /// Runs `work` on the blocking pool under this permit.
    pub async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let Permit(permit) = self;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(ApiError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_request_waits_then_is_refused() {
        let h = Hashing::new(1, Duration::from_millis(50));
        let first = h.permit().await.expect("first permit");
        let e = h.permit().await.expect_err("no second permit");
        assert_eq!(e.status, http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(first.run(|| 7).await.expect("runs"), 7);
        assert!(h.permit().await.is_ok(), "the permit came back");
    }
}
