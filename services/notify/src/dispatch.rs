//! The dispatcher: a loop that sends due deliveries (retrying failures with
//! back-off, giving up at the cap with the reason), climbs the escalation
//! ladder and sends the day's digests. It wakes on its interval and when a
//! new inbox row is committed; several replicas share the work through
//! row locks and leases.
use chrono::Duration;
use tokio_util::sync::CancellationToken;
use zoufang_runtime::{metrics::NOTIFY_DELIVERIES, retry::AfterFailure};

use crate::{
    channels::{Message, Target, build_request},
    ops::{State, followups},
    store::{self, deliveries::DeliveryRow},
};

/// Deliveries claimed per round.
const BATCH: usize = 32;
/// How long a claimed delivery is ours before another replica may retry it.
const LEASE_SECS: i64 = 60;

/// Runs until `shutdown`.
pub async fn run(state: State, shutdown: CancellationToken) {
    let (interval, wake) = (state.settings.dispatch_interval, state.wake.clone());
    zoufang_runtime::server::every_or_woken(
        interval,
        &wake,
        shutdown,
        "notification dispatch round",
        || run_once(&state),
    )
    .await;
}

/// One round: every due delivery, escalation and digest.
pub async fn run_once(state: &State) -> anyhow::Result<()> {
    // A full batch means there may be more; a round ends when one is short.
    while send_due(state).await? == BATCH {}
    followups::escalate_due(state).await?;
    followups::send_digests(state).await?;
    Ok(())
}

/// Claims and sends one batch; returns how many were claimed.
async fn send_due(state: &State) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let claimed = store::deliveries::claim_due(
        &state.pool,
        now,
        now + Duration::seconds(LEASE_SECS),
        i64::try_from(BATCH).unwrap_or(32),
    )
    .await?;
    let results = futures::future::join_all(claimed.iter().map(|d| deliver_one(state, d))).await;
    for r in results {
        r?;
    }
    Ok(claimed.len())
}

/// Where a delivery goes, or why it cannot go anywhere.
async fn target_of(state: &State, d: &DeliveryRow) -> anyhow::Result<Result<Target, String>> {
    if d.channel == "sms" {
        let Some(sms) = &state.settings.sms else {
            return Ok(Err("no SMS provider is configured".into()));
        };
        let person = store::recipients::get(&state.pool, &d.county, &d.target).await?;
        let Some(enc) = person.filter(|p| p.active).and_then(|p| p.phone_enc) else {
            return Ok(Err("the recipient has no phone or was deactivated".into()));
        };
        return Ok(Ok(Target::Sms {
            url: sms.url.clone(),
            token: sms.token.clone(),
            sign_name: sms.sign_name.clone(),
            phone: state.pii.decrypt(&enc)?,
        }));
    }
    let Ok(id) = uuid::Uuid::parse_str(&d.target) else {
        return Ok(Err(format!("bad subscription id {}", d.target)));
    };
    let Some(sub) = store::subscriptions::get(&state.pool, id).await? else {
        return Ok(Err("the subscription no longer exists".into()));
    };
    if !sub.active {
        return Ok(Err("the subscription was disabled".into()));
    }
    let secret = match &sub.secret_enc {
        Some(enc) => Some(state.pii.decrypt(enc)?),
        None => None,
    };
    Ok(match d.channel.as_str() {
        "wecom" => Ok(Target::WeCom { url: sub.url }),
        "dingtalk" => Ok(Target::DingTalk {
            url: sub.url,
            secret,
        }),
        "webhook" => Ok(Target::Webhook {
            url: sub.url,
            secret: secret.unwrap_or_default(),
        }),
        other => Err(format!("unknown channel {other}")),
    })
}

async fn deliver_one(state: &State, d: &DeliveryRow) -> anyhow::Result<()> {
    let outcome = match target_of(state, d).await? {
        Err(reason) => Err((reason, true)),
        Ok(target) => {
            let msg = Message {
                delivery_id: d.delivery_id,
                kind: d.kind.clone(),
                title: d.title.clone(),
                body: d.body.clone(),
                sms_text: d.sms_text.clone(),
                link: d.link.clone(),
                subject_type: d.subject_type.clone(),
                subject_id: d.subject_id.clone(),
                region_code: d.region_code.clone(),
                urgent: d.urgent,
                created_at: d.created_at,
            };
            let request = build_request(&target, &msg, state.clock.now());
            state
                .sender
                .send(target.kind(), &request)
                .await
                .map_err(|e| {
                    // The detail (the receiver's words, the connection error)
                    // is for operators; admins see the generic reason.
                    if !e.detail.is_empty() {
                        tracing::info!(delivery = %d.delivery_id, channel = %d.channel,
                            reason = %e.reason, detail = %e.detail, "delivery attempt failed");
                    }
                    (e.reason, e.permanent)
                })
        }
    };
    let now = state.clock.now();
    let attempts = u32::try_from(d.attempts).unwrap_or(u32::MAX);
    match outcome {
        Ok(()) => {
            store::deliveries::finish(&state.pool, &d.county, d.delivery_id, "sent", now, "")
                .await?;
            NOTIFY_DELIVERIES
                .with_label_values(&[&d.channel, "sent"])
                .inc();
        }
        Err((reason, permanent)) => match state.settings.retry.after_failure(attempts, permanent) {
            AfterFailure::RetryIn(delay) => {
                let at = now + Duration::from_std(delay).unwrap_or(Duration::minutes(30));
                store::deliveries::retry_at(&state.pool, &d.county, d.delivery_id, at, &reason)
                    .await?;
                NOTIFY_DELIVERIES
                    .with_label_values(&[&d.channel, "retry"])
                    .inc();
                tracing::info!(delivery = %d.delivery_id, channel = %d.channel, attempts,
                    %reason, "delivery failed; will retry");
            }
            AfterFailure::GiveUp => {
                store::deliveries::finish(
                    &state.pool,
                    &d.county,
                    d.delivery_id,
                    "failed",
                    now,
                    &reason,
                )
                .await?;
                NOTIFY_DELIVERIES
                    .with_label_values(&[&d.channel, "failed"])
                    .inc();
                tracing::warn!(delivery = %d.delivery_id, channel = %d.channel, attempts,
                    %reason, "delivery failed for good");
            }
        },
    }
    Ok(())
}
