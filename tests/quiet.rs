//! Quiescence: positive signals that a service under test has done all it
//! will do with what the test gave it, so that the test may then assert
//! that something did *not* happen ("nothing else was published", "applied
//! once") without a fixed sleep or listening window that passes just as
//! well when the service is merely slow or stopped.
//!
//! - [`outbox_drained`]: no row of the service's outbox is unpublished.
//! - [`caught_up`]: a marker event published straight to the consumer's
//!   queue after the events under test, in their ordering lane, is in the
//!   consumer's inbox (so it applied or dropped everything before it in
//!   that lane), and its main and retry queues hold nothing more (so no
//!   event is still waiting or coming back for another try).
//! - [`crate::tap::Tap::drain`]: everything a tap holds up to a marker it
//!   put in its own queue.
//!
//! The marker is a real event type the consumer handles, with an empty
//! payload (but for the change its routing key names, without which the
//! consumer would park it), which each handler treats as a no-op (see
//! [`Consumer`]).
use std::time::{Duration, Instant};

use lapin::options::{BasicPublishOptions, QueueDeclareOptions};
use sqlx::PgPool;
use uuid::Uuid;
use zoufang_bus::{Envelope, consumer::default_retry_delays};
use zoufang_proto::catalogue;

use crate::{amqp_url, fixtures};

/// How long a service may take to become quiet before the test fails.
pub const WITHIN: Duration = Duration::from_secs(60);

/// A consuming service under test: its queue, its schema, and the event
/// type whose empty payload its handler accepts and ignores (the marker).
#[derive(Debug, Clone)]
pub struct Consumer {
    /// The queue prefix (`CONSUMER_QUEUE`): `<queue>.events` is the main queue.
    pub queue: String,
    /// A pool on its database.
    pub pool: PgPool,
    /// Its schema (its `inbox` and `outbox` are there).
    pub schema: &'static str,
    /// The marker's routing key.
    pub marker_key: &'static str,
    /// Its retry delays (the names of its retry queues).
    pub retry_delays: Vec<Duration>,
}

impl Consumer {
    /// The marker's payload: empty, but for the change (and, for notify,
    /// the kind) its routing key names, since an event whose change or kind
    /// the consumer cannot read is parked, not applied.
    pub fn marker_payload(&self) -> Vec<u8> {
        use prost::Message as _;
        use zoufang_proto::{
            common::v1::ItemKind,
            events::v1::{IssueChange, IssueChanged},
        };
        match catalogue::issues::change_of(self.marker_key) {
            Some(change) => IssueChanged {
                change: change as i32,
                kind: if change == IssueChange::Created {
                    ItemKind::Problem as i32
                } else {
                    0
                },
                ..Default::default()
            }
            .encode_to_vec(),
            None => Vec::new(),
        }
    }

    fn service(queue: &str, pool: &PgPool, schema: &'static str, marker_key: &'static str) -> Self {
        Self {
            queue: queue.to_owned(),
            pool: pool.clone(),
            schema,
            marker_key,
            retry_delays: default_retry_delays(),
        }
    }

    /// The registry: an empty `supervision.callback.completed` has no visit id.
    pub fn registry(queue: &str, pool: &PgPool) -> Self {
        Self::service(
            queue,
            pool,
            "registry",
            catalogue::supervision::CALLBACK_COMPLETED,
        )
    }

    /// The ledger: an empty `supervision.callback.completed` names no issue
    /// (a visit verification, not the ledger's business).
    pub fn issues(queue: &str, pool: &PgPool) -> Self {
        Self::service(
            queue,
            pool,
            "issues",
            catalogue::supervision::CALLBACK_COMPLETED,
        )
    }

    /// Supervision: an empty `issues.issue.overdue` has no campaign or cadre
    /// to count against.
    pub fn supervision(queue: &str, pool: &PgPool) -> Self {
        Self::service(queue, pool, "supervision", catalogue::issues::OVERDUE)
    }

    /// Notify: an `issues.issue.created` of no cadre and no issue concerns
    /// nobody, so no fact.
    pub fn notify(queue: &str, pool: &PgPool) -> Self {
        Self::service(queue, pool, "notify", catalogue::issues::CREATED)
    }

    /// The petition bridge: an empty `issues.issue.resolved` names no issue.
    pub fn petition(queue: &str, pool: &PgPool) -> Self {
        Self::service(queue, pool, "petition", catalogue::issues::RESOLVED)
    }

    /// The harness's test consumer ([`crate::consumer::TestConsumer`]): an
    /// empty `registry.visit.recorded` has no visit id, which it ignores.
    pub fn test_consumer(consumer: &crate::consumer::TestConsumer) -> Self {
        Self {
            queue: consumer.service.clone(),
            pool: consumer.pool.clone(),
            schema: "testconsumer",
            marker_key: catalogue::registry::VISIT_RECORDED,
            retry_delays: crate::consumer::retry_delays(),
        }
    }
}

/// The ordering lane a marker goes down: a consumer applies the events of
/// one county (supervision, the registry) or of one subject (the ledger,
/// notify) in order, different ones concurrently. A marker in the lane of
/// the events under test is applied after them.
#[derive(Debug, Clone)]
pub struct Lane {
    /// The county header.
    pub county: String,
    /// The subject (`ce-subject`).
    pub subject: String,
}

impl Lane {
    /// The lane of `envelope` (an event under test).
    pub fn of(envelope: &Envelope) -> Self {
        Self {
            county: envelope.county.clone(),
            subject: envelope.subject.clone(),
        }
    }

    /// The lane of the test county's events, for a consumer that orders by
    /// county (every event of the county is in it).
    pub fn county() -> Self {
        Self {
            county: fixtures::COUNTY.into(),
            subject: "test/quiescence".into(),
        }
    }
}

/// Publishes `payload` under `envelope` straight to `queue` (the default
/// exchange), confirmed.
pub async fn publish_to_queue(queue: &str, payload: &[u8], envelope: &Envelope) {
    let conn = zoufang_bus::connect(&amqp_url(), "test-publish")
        .await
        .expect("connect to the broker");
    let ch = zoufang_bus::confirm_channel(&conn).await.expect("channel");
    let confirm = ch
        .basic_publish(
            "".into(),
            queue.into(),
            BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            payload,
            envelope.to_properties(),
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
    assert!(
        confirm.is_ack() && confirm.take_message().is_none(),
        "the broker did not take the message for {queue} (no such queue?)"
    );
    let _ = conn.close(200, "done".into()).await;
}

/// The ready messages of each queue (a passive declare; panics when one
/// does not exist: the consumer's queues are gone, nothing can be awaited).
async fn ready_messages(queues: &[String]) -> Vec<(String, u32)> {
    let conn = zoufang_bus::connect(&amqp_url(), "test-quiet")
        .await
        .expect("connect to the broker");
    let mut out = Vec::with_capacity(queues.len());
    for q in queues {
        // A failed passive declare closes the channel: one channel each.
        let ch = conn.create_channel().await.expect("channel");
        let n = ch
            .queue_declare(
                q.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("quiet: queue {q}: {e}"))
            .message_count();
        out.push((q.clone(), n));
        let _ = ch.close(200, "done".into()).await;
    }
    let _ = conn.close(200, "done".into()).await;
    out
}

/// Waits until `consumer` has caught up with everything published to its
/// queue so far in `lane`: publishes a marker event to its main queue,
/// waits until its inbox holds the marker, and until its main and retry
/// queues hold no ready message (else a new marker, and again). Panics
/// after [`WITHIN`].
pub async fn caught_up(consumer: &Consumer, lane: &Lane) {
    let t0 = Instant::now();
    let main = format!("{}.events", consumer.queue);
    let mut queues = vec![main.clone()];
    queues.extend(
        consumer
            .retry_delays
            .iter()
            .map(|d| format!("{}.retry.{}ms", consumer.queue, d.as_millis())),
    );
    loop {
        let envelope = Envelope {
            id: Uuid::now_v7(),
            source: "/zoufang/test/quiescence".into(),
            routing_key: consumer.marker_key.into(),
            subject: lane.subject.clone(),
            time: chrono::Utc::now(),
            county: lane.county.clone(),
            trace: Default::default(),
            attempt: 0,
        };
        publish_to_queue(&main, &consumer.marker_payload(), &envelope).await;
        let sql = format!(
            "SELECT count(*) FROM {}.inbox WHERE event_id = $1",
            consumer.schema
        );
        loop {
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(envelope.id)
                .fetch_one(&consumer.pool)
                .await
                .unwrap_or_else(|e| panic!("quiet: {sql}: {e}"));
            if n > 0 {
                break;
            }
            assert!(
                t0.elapsed() < WITHIN,
                "quiet: the consumer of {main} did not apply a marker event ({}) within {WITHIN:?}: \
                 it is stopped, stuck, or parked the marker",
                consumer.marker_key
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let ready = ready_messages(&queues).await;
        if ready.iter().all(|(_, n)| *n == 0) {
            return;
        }
        assert!(
            t0.elapsed() < WITHIN,
            "quiet: the queues of {} never emptied within {WITHIN:?}: {ready:?}",
            consumer.queue
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until no row of `schema.outbox` in `pool`'s database is
/// unpublished. Panics after [`WITHIN`].
pub async fn outbox_drained(pool: &PgPool, schema: &str) {
    let sql = format!("SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL");
    let t0 = Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("quiet: {sql}: {e}"));
        if n == 0 {
            return;
        }
        assert!(
            t0.elapsed() < WITHIN,
            "quiet: {n} rows of {schema}.outbox still unpublished after {WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// [`caught_up`], then [`outbox_drained`] for the same service: it applied
/// everything before the marker and published all that wrote.
pub async fn settled(consumer: &Consumer, lane: &Lane) {
    caught_up(consumer, lane).await;
    outbox_drained(&consumer.pool, consumer.schema).await;
}
