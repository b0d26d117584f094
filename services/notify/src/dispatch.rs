//! The dispatcher: a loop that sends due deliveries (retrying failures with
//! back-off, giving up at the cap with the reason), climbs the escalation
//! ladder and sends the day's digests. It wakes on its interval and when a
//! new inbox row is committed; several replicas share the work through
//! row locks and leases. The deliveries are a queue of the job engine
//! (`zoufang_bus::jobs`), which claims them county by county.
use chrono::{DateTime, Duration, Utc};
use tokio_util::sync::CancellationToken;
use zoufang_bus::{
    jobs::{self, End, Failure, Queue},
    retry::RetryPolicy,
};
use zoufang_core::metrics::NOTIFY_DELIVERIES;

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
    jobs::every(
        interval,
        Some(&wake),
        shutdown,
        "notification dispatch round",
        || run_once(&state),
    )
    .await;
}

/// One round: every due delivery, escalation and digest.
pub async fn run_once(state: &State) -> anyhow::Result<()> {
    jobs::drain(&Deliveries(state), BATCH, Duration::seconds(LEASE_SECS)).await?;
    followups::escalate_due(state).await?;
    followups::send_digests(state).await?;
    Ok(())
}

/// The deliveries as the job engine's queue.
struct Deliveries<'a>(&'a State);

impl Queue for Deliveries<'_> {
    type Job = DeliveryRow;

    fn name(&self) -> &'static str {
        "notify.delivery"
    }

    fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }

    fn policy(&self) -> RetryPolicy {
        self.0.settings.retry
    }

    async fn counties(&self, now: DateTime<Utc>) -> sqlx::Result<Vec<String>> {
        store::deliveries::due_counties(&self.0.pool, now).await
    }

    async fn claim(
        &self,
        county: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> sqlx::Result<Vec<DeliveryRow>> {
        store::deliveries::claim_due(&self.0.pool, county, now, lease_until, limit).await
    }

    async fn attempt(&self, d: &DeliveryRow) -> anyhow::Result<Result<(), Failure>> {
        deliver_one(self.0, d).await
    }

    fn attempts(&self, d: &DeliveryRow) -> u32 {
        u32::try_from(d.attempts).unwrap_or(u32::MAX)
    }

    async fn record(&self, d: &DeliveryRow, end: &End, at: DateTime<Utc>) -> sqlx::Result<()> {
        let pool = &self.0.pool;
        match end {
            End::Done => {
                store::deliveries::finish(pool, &d.county, d.delivery_id, "sent", at, "").await
            }
            End::Retry { at: next, reason } => {
                store::deliveries::retry_at(pool, &d.county, d.delivery_id, *next, reason).await
            }
            End::GaveUp { reason } => {
                store::deliveries::finish(pool, &d.county, d.delivery_id, "failed", at, reason)
                    .await
            }
        }
    }

    fn observe(&self, d: &DeliveryRow, end: &End) {
        NOTIFY_DELIVERIES
            .with_label_values(&[&d.channel, end.label()])
            .inc();
        match end {
            End::Done => {}
            End::Retry { reason, .. } => {
                tracing::info!(delivery = %d.delivery_id, channel = %d.channel,
                    attempts = d.attempts, %reason, "delivery failed; will retry");
            }
            End::GaveUp { reason } => {
                tracing::warn!(delivery = %d.delivery_id, channel = %d.channel,
                    attempts = d.attempts, %reason, "delivery failed for good");
            }
        }
    }
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

/// One attempt at a delivery: its target looked up, the message built and sent.
async fn deliver_one(state: &State, d: &DeliveryRow) -> anyhow::Result<Result<(), Failure>> {
    Ok(match target_of(state, d).await? {
        Err(reason) => Err(Failure {
            reason,
            permanent: true,
        }),
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
                    Failure {
                        reason: e.reason,
                        permanent: e.permanent,
                    }
                })
        }
    })
}
