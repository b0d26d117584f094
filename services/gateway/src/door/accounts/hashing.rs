//! A bound on concurrent password hashing. Every argon2 hash or check takes
//! ~19 MiB for its duration, so unbounded parallel sign-ins (even for
//! unknown users, whose timing is equalised with a hash) grew the gateway
//! by gigabytes. Work takes a permit first; a request that cannot get one
//! within the wait answers 503 instead of queueing without end. The work
//! runs on as many dedicated threads as there are permits, not on the
//! blocking pool: the allocator keeps a freed 19 MiB block per thread
//! that used one, so many short-lived pool threads would still add up.
use std::{
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::door::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

/// The permits (one per core by default), the hashing threads, and how
/// long a request waits for a permit.
#[derive(Debug)]
pub struct Hashing {
    permits: Arc<Semaphore>,
    jobs: Mutex<mpsc::Sender<Job>>,
    wait: Duration,
}

/// Leave to hash once; the work holds the permit until it is done, even
/// when the client has gone away meanwhile.
#[derive(Debug)]
pub struct Permit {
    permit: OwnedSemaphorePermit,
    jobs: mpsc::Sender<Job>,
}

/// The answer when every permit stays taken for the whole wait.
pub fn busy() -> ApiError {
    ApiError::new(
        http::StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "登录请求过多，系统繁忙，请稍后再试",
    )
}

impl Hashing {
    /// `concurrency` 0 means one per available core. Starts that many
    /// threads; they end when this is dropped.
    pub fn new(concurrency: usize, wait: Duration) -> Self {
        let n = if concurrency == 0 {
            std::thread::available_parallelism().map_or(2, usize::from)
        } else {
            concurrency
        };
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while taking a job.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A panicking job must not take the thread with it.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Self {
            permits: Arc::new(Semaphore::new(n)),
            jobs: Mutex::new(tx),
            wait,
        }
    }

    /// Waits up to the configured time for a permit.
    pub async fn permit(&self) -> Result<Permit, ApiError> {
        let permit =
            match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
                Ok(Ok(p)) => p,
                Ok(Err(closed)) => return Err(ApiError::internal(closed)),
                Err(_) => return Err(busy()),
            };
        let jobs = self
            .jobs
            .lock()
            .map_err(|_| ApiError::internal("the hashing queue is poisoned"))?
            .clone();
        Ok(Permit { permit, jobs })
    }
}

impl Permit {
    /// Runs `work` on a hashing thread under this permit.
    pub async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let Permit { permit, jobs } = self;
        let (tx, rx) = oneshot::channel();
        jobs.send(Box::new(move || {
            let out = work();
            drop(permit);
            let _ = tx.send(out);
        }))
        .map_err(|_| ApiError::internal("the hashing threads have stopped"))?;
        rx.await
            .map_err(|_| ApiError::internal("a hashing job panicked"))
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

    #[tokio::test]
    async fn work_runs_on_the_hashing_threads() {
        let h = Hashing::new(2, Duration::from_secs(1));
        let name = h
            .permit()
            .await
            .expect("permit")
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .expect("runs");
        assert!(name.is_some_and(|n| n.starts_with("password-hash-")));
    }
}
