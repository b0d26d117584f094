//! Pushing answers back to source systems: a loop that claims due answers
//! (leases, so replicas share the work and a dead one's claims expire),
//! posts each as signed JSON to its source's callback URL, and retries
//! failures with back-off until the attempts run out. Receivers drop
//! repeats by `X-Zoufang-Delivery` (the answer's id): delivery is at least
//! once, and exactly once for a receiver that does. Retry timing runs on
//! wall-clock time, not the service clock (which is business time). The
//! answers are a queue of the job engine (`zoufang_bus::jobs`), which
//! claims them county by county.
use chrono::{DateTime, Duration, Utc};
use tokio_util::sync::CancellationToken;
use zoufang_bus::{
    jobs::{self, End, Failure, Queue},
    retry::RetryPolicy,
    signing,
};
use zoufang_core::{metrics::PETITION_ANSWERS, outbound};

use crate::{
    ops::State,
    store::{self, replies::ReplyRow},
};

/// Answers claimed per round.
const BATCH: usize = 32;
/// How long a claimed answer is ours before another replica may retry it.
const LEASE_SECS: i64 = 60;

/// The channel the `replies` trigger notifies at commit.
const REPLIES_CHANNEL: &str = "petition_replies";

/// Wakes the dispatcher when answers are committed (by any replica, or by
/// the event consumer whose transaction commits after its handler returns),
/// reconnecting after failures.
pub async fn listen(state: State, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let result: anyhow::Result<()> = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&state.pool).await?;
            listener.listen(REPLIES_CHANNEL).await?;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    note = listener.recv() => { note?; }
                }
                state.wake.notify_one();
            }
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %format!("{e:#}"), "answer listener lost its connection; reconnecting");
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
        }
    }
}

/// Runs until `shutdown`.
pub async fn run(state: State, shutdown: CancellationToken) {
    let (interval, wake) = (state.settings.dispatch_interval, state.wake.clone());
    jobs::every(
        interval,
        Some(&wake),
        shutdown,
        "answer dispatch round",
        || run_once(&state),
    )
    .await;
}

/// Sends every due answer.
pub async fn run_once(state: &State) -> anyhow::Result<()> {
    jobs::drain(&Answers(state), BATCH, Duration::seconds(LEASE_SECS)).await?;
    Ok(())
}

/// The answers as the job engine's queue.
struct Answers<'a>(&'a State);

impl Queue for Answers<'_> {
    type Job = ReplyRow;

    fn name(&self) -> &'static str {
        "petition.answer"
    }

    fn now(&self) -> DateTime<Utc> {
        self.0.wall.now()
    }

    fn policy(&self) -> RetryPolicy {
        self.0.settings.retry
    }

    async fn counties(&self, now: DateTime<Utc>) -> sqlx::Result<Vec<String>> {
        store::replies::due_counties(&self.0.pool, now).await
    }

    async fn claim(
        &self,
        county: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> sqlx::Result<Vec<ReplyRow>> {
        store::replies::claim_due(&self.0.pool, county, now, lease_until, limit).await
    }

    async fn attempt(&self, r: &ReplyRow) -> anyhow::Result<Result<(), Failure>> {
        push(self.0, r).await
    }

    fn attempts(&self, r: &ReplyRow) -> u32 {
        u32::try_from(r.attempts).unwrap_or(u32::MAX)
    }

    async fn record(&self, r: &ReplyRow, end: &End, at: DateTime<Utc>) -> sqlx::Result<()> {
        let pool = &self.0.pool;
        match end {
            End::Done => store::replies::finish(pool, &r.county, r.reply_id, "sent", at, "").await,
            End::Retry { at: next, reason } => {
                store::replies::retry_at(pool, &r.county, r.reply_id, *next, reason).await
            }
            End::GaveUp { reason } => {
                store::replies::finish(pool, &r.county, r.reply_id, "failed", at, reason).await
            }
        }
    }

    fn observe(&self, r: &ReplyRow, end: &End) {
        PETITION_ANSWERS.with_label_values(&[end.label()]).inc();
        match end {
            End::Done => {}
            End::Retry { reason, .. } => tracing::info!(reply = %r.reply_id,
                attempts = r.attempts, %reason, "answer push failed; will retry"),
            End::GaveUp { reason } => tracing::warn!(reply = %r.reply_id,
                attempts = r.attempts, %reason, "answer push failed for good"),
        }
    }
}

/// One push of an answer to its source's callback URL.
async fn push(state: &State, r: &ReplyRow) -> anyhow::Result<Result<(), Failure>> {
    let Some(source) = store::sources::by_name(&state.pool, &r.source_system).await? else {
        return Ok(Err(Failure {
            reason: "the source system is no longer registered".into(),
            permanent: true,
        }));
    };
    if source.callback_url.is_empty() {
        return Ok(Err(Failure {
            reason: "the source system has no callback URL".into(),
            permanent: true,
        }));
    }
    // Checked again at every push: the rule or the allow-list may have
    // changed since registration (the resolver checks names as they resolve).
    if let Err(why) = state.outbound.check_url(&source.callback_url) {
        tracing::warn!(reply = %r.reply_id, source = %source.source_system, reason = %why,
            "callback URL refused");
        return Ok(Err(Failure {
            reason: outbound::GENERIC_REFUSAL.into(),
            permanent: true,
        }));
    }
    let secret = match &source.secret_enc {
        Some(enc) => state.pii.decrypt(enc)?,
        None => String::new(),
    };
    let body = serde_json::to_vec(&r.body)?;
    let ts = state.wall.now().timestamp();
    let sent = state
        .http
        .post(&source.callback_url)
        .header("content-type", "application/json")
        .header("x-zoufang-source", "zoufang")
        .header("x-zoufang-delivery", r.reply_id.to_string())
        .header("x-zoufang-timestamp", ts.to_string())
        .header(
            "x-zoufang-signature",
            signing::sign(secret.as_bytes(), ts, &body),
        )
        .body(body)
        .send()
        .await;
    Ok(match sent {
        // Handlers see a generic reason; the detail (which may quote the
        // receiver or name an inside address) is for operators' logs.
        Err(e) => {
            let (refused, timed_out) = (outbound::is_refusal(&e), e.is_timeout());
            tracing::info!(reply = %r.reply_id, source = %source.source_system,
                error = %format!("{:#}", anyhow::Error::from(e.without_url())), "answer push failed");
            Err(if refused {
                Failure {
                    reason: outbound::GENERIC_REFUSAL.into(),
                    permanent: true,
                }
            } else {
                Failure {
                    reason: if timed_out {
                        "timed out"
                    } else {
                        "unreachable"
                    }
                    .into(),
                    permanent: false,
                }
            })
        }
        Ok(resp) if resp.status().is_success() => Ok(()),
        Ok(resp) => {
            let status = resp.status();
            // 4xx says the request itself is wrong, except timeouts and throttling.
            let permanent = status.is_client_error()
                && status != reqwest::StatusCode::REQUEST_TIMEOUT
                && status != reqwest::StatusCode::TOO_MANY_REQUESTS;
            Err(Failure {
                reason: format!("HTTP {status}"),
                permanent,
            })
        }
    })
}
