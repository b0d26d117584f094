//! Pushing answers back to source systems: a loop that claims due answers
//! (leases, so replicas share the work and a dead one's claims expire),
//! posts each as signed JSON to its source's callback URL, and retries
//! failures with back-off until the attempts run out. Receivers drop
//! repeats by `X-Zoufang-Delivery` (the answer's id): delivery is at least
//! once, and exactly once for a receiver that does. Retry timing runs on
//! wall-clock time, not the service clock (which is business time).
use chrono::{Duration, Utc};
use tokio_util::sync::CancellationToken;
use zoufang_runtime::{metrics::PETITION_ANSWERS, outbound, retry::AfterFailure, signing};

use crate::{
    ops::State,
    store::{self, replies::ReplyRow},
};

/// Answers claimed per round.
const BATCH: i64 = 32;
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
    zoufang_runtime::server::every_or_woken(
        interval,
        &wake,
        shutdown,
        "answer dispatch round",
        || run_once(&state),
    )
    .await;
}

/// Sends every due answer.
pub async fn run_once(state: &State) -> anyhow::Result<()> {
    loop {
        let now = Utc::now();
        let claimed =
            store::replies::claim_due(&state.pool, now, now + Duration::seconds(LEASE_SECS), BATCH)
                .await?;
        let results = futures::future::join_all(claimed.iter().map(|r| deliver(state, r))).await;
        for r in results {
            r?;
        }
        if (claimed.len() as i64) < BATCH {
            return Ok(());
        }
    }
}

/// Why a push failed, and whether trying again can help.
struct Failure {
    reason: String,
    permanent: bool,
}

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
    let ts = Utc::now().timestamp();
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

async fn deliver(state: &State, r: &ReplyRow) -> anyhow::Result<()> {
    let outcome = push(state, r).await?;
    let now = Utc::now();
    match outcome {
        Ok(()) => {
            store::replies::finish(&state.pool, &r.county, r.reply_id, "sent", now, "").await?;
            PETITION_ANSWERS.with_label_values(&["sent"]).inc();
        }
        Err(f) => {
            let attempts = u32::try_from(r.attempts).unwrap_or(u32::MAX);
            match state.settings.retry.after_failure(attempts, f.permanent) {
                AfterFailure::RetryIn(delay) => {
                    let at = now + Duration::from_std(delay).unwrap_or(Duration::minutes(30));
                    tracing::info!(reply = %r.reply_id, attempts, reason = %f.reason,
                        "answer push failed; will retry");
                    store::replies::retry_at(&state.pool, &r.county, r.reply_id, at, &f.reason)
                        .await?;
                    PETITION_ANSWERS.with_label_values(&["retry"]).inc();
                }
                AfterFailure::GiveUp => {
                    tracing::warn!(reply = %r.reply_id, attempts, reason = %f.reason,
                        "answer push failed for good");
                    store::replies::finish(
                        &state.pool,
                        &r.county,
                        r.reply_id,
                        "failed",
                        now,
                        &f.reason,
                    )
                    .await?;
                    PETITION_ANSWERS.with_label_values(&["failed"]).inc();
                }
            }
        }
    }
    Ok(())
}
