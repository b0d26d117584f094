//! The AMQP door, for petition systems on the same broker: they publish a
//! case as JSON (the webhook's schema) to the topic exchange
//! `zoufang.petition.inbound` (any routing key, e.g. the source's name), and
//! the bridge takes it in from its durable quorum queue.
//!
//! Each message is signed exactly like a webhook request, the three values
//! carried as AMQP string headers: `x-zoufang-source`, `x-zoufang-timestamp`
//! (unix seconds, within the freshness window) and `x-zoufang-signature`
//! (`sha256=hex(HMAC-SHA256(secret, "{ts}.{body}"))`). Being able to publish
//! on the broker proves nothing: any broker user can. An unsigned, forged or
//! stale message, or one that is not a valid case, writes nothing and is
//! moved to `<queue>.parking` with the reason in its `zf-last-error` header;
//! a message whose MAC was taken before (a redelivery or a replay) is
//! dropped; a failure of ours (database down) puts it back to be retried.
use std::time::Duration;

use futures::StreamExt;
use lapin::{
    ExchangeKind,
    message::Delivery,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions,
        BasicQosOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable, LongString},
};
use tokio_util::sync::CancellationToken;
use zoufang_bus::envelope::{ERROR_HEADER, with_header};
use zoufang_core::ServiceError;

use crate::{
    domain::inbound,
    ops::{
        State,
        intake::{Refused, intake},
    },
    signed::{self, Authentic, Signed},
};

/// Where the door listens.
#[derive(Debug, Clone)]
pub struct Door {
    pub amqp_url: String,
    pub exchange: String,
    pub queue: String,
}

impl Door {
    /// The parking queue of rejected messages.
    pub fn parking_queue(&self) -> String {
        format!("{}.parking", self.queue)
    }
}

/// Declares the exchange, the queue and its parking queue.
pub async fn declare(ch: &lapin::Channel, door: &Door) -> lapin::Result<()> {
    let durable_x = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    ch.exchange_declare(
        door.exchange.clone().into(),
        ExchangeKind::Topic,
        durable_x,
        FieldTable::default(),
    )
    .await?;
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let quorum = || {
        let mut args = FieldTable::default();
        args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString(LongString::from("quorum")),
        );
        args
    };
    ch.queue_declare(door.parking_queue().into(), durable, quorum())
        .await?;
    let mut args = quorum();
    // Rejected messages go through the default exchange to the parking queue.
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(LongString::from("")),
    );
    args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(LongString::from(door.parking_queue().as_str())),
    );
    ch.queue_declare(door.queue.clone().into(), durable, args)
        .await?;
    ch.queue_bind(
        door.queue.clone().into(),
        door.exchange.clone().into(),
        "#".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
}

/// Consumes until `shutdown`, reconnecting with back-off.
pub async fn run(state: State, door: Door, shutdown: CancellationToken) {
    let what = format!("inbound case consumer of {}", door.queue);
    zoufang_bus::reconnecting(&what, &shutdown, |connected| {
        session(&state, &door, &shutdown, connected)
    })
    .await;
}

async fn session(
    state: &State,
    door: &Door,
    shutdown: &CancellationToken,
    connected: zoufang_bus::Connected,
) -> anyhow::Result<()> {
    let conn = zoufang_bus::connect(&door.amqp_url, "petition-inbound").await?;
    let ch = conn.create_channel().await?;
    declare(&ch, door).await?;
    // Parking publishes with confirms before the original is acked.
    let park_ch = zoufang_bus::confirm_channel(&conn).await?;
    ch.basic_qos(16, BasicQosOptions::default()).await?;
    let mut deliveries = ch
        .basic_consume(
            door.queue.clone().into(),
            "petition-inbound".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    tracing::info!(queue = %door.queue, "inbound case consumer connected");
    connected.mark();
    loop {
        let next = tokio::select! {
            () = shutdown.cancelled() => break,
            d = deliveries.next() => d,
        };
        let delivery = match next {
            Some(d) => d?,
            None => anyhow::bail!("the broker cancelled the consumer"),
        };
        handle(state, door, &park_ch, &delivery).await?;
    }
    let _ = conn.close(200, "shutdown".into()).await;
    Ok(())
}

/// What becomes of one message.
enum Outcome {
    /// Taken in, or already taken (ack).
    Done,
    /// Our failure: back on the queue.
    Requeue(String),
    /// The message's fault: to the parking queue with the reason.
    Park(String),
}

/// A string header, its name matched without regard to case.
fn header<'d>(delivery: &'d Delivery, name: &str) -> Option<&'d str> {
    let headers = delivery.properties.headers().as_ref()?;
    headers
        .inner()
        .iter()
        .find(|(k, _)| k.as_str().eq_ignore_ascii_case(name))
        .and_then(|(_, v)| match v {
            AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok(),
            AMQPValue::ShortString(s) => Some(s.as_str()),
            _ => None,
        })
        .map(str::trim)
}

async fn take(state: &State, delivery: &Delivery) -> Outcome {
    let signed = Signed {
        source: header(delivery, signed::HEADER_SOURCE),
        timestamp: header(delivery, signed::HEADER_TIMESTAMP),
        signature: header(delivery, signed::HEADER_SIGNATURE),
    };
    let Authentic { source, mac } = match signed::authenticate(state, signed, &delivery.data).await
    {
        Ok(Ok(a)) => a,
        Ok(Err(why)) => return Outcome::Park(format!("unauthenticated: {why}")),
        Err(e) => return Outcome::Requeue(e.to_string()),
    };
    let case = match inbound::parse(&delivery.data, state.wall.now()) {
        Ok(c) => c,
        Err(e) => return Outcome::Park(e.to_string()),
    };
    if case.source_system != source.source_system {
        return Outcome::Park("source_system: differs from x-zoufang-source".into());
    }
    let actor = format!("amqp:{}", case.source_system);
    match intake(state, &case, &actor, Some(&mac), None).await {
        Ok((row, applied)) => {
            tracing::info!(case_id = %row.case_id, result = applied.as_str(), "case from AMQP");
            Outcome::Done
        }
        Err(Refused::Replay) => {
            tracing::info!(source = %source.source_system,
                "AMQP case already taken (redelivered or replayed); dropped");
            Outcome::Done
        }
        Err(Refused::Service(e @ (ServiceError::Internal(_) | ServiceError::Aborted(_)))) => {
            Outcome::Requeue(e.to_string())
        }
        Err(Refused::Service(e)) => Outcome::Park(e.to_string()),
    }
}

/// Takes one message in; Err only when the connection itself failed.
async fn handle(
    state: &State,
    door: &Door,
    park_ch: &lapin::Channel,
    delivery: &Delivery,
) -> anyhow::Result<()> {
    match take(state, delivery).await {
        Outcome::Done => {
            delivery.ack(BasicAckOptions::default()).await?;
        }
        Outcome::Requeue(why) => {
            // Ours, not the message's: back on the queue after a pause.
            tracing::warn!(error = %why, "inbound case failed; requeued");
            tokio::time::sleep(Duration::from_secs(1)).await;
            delivery
                .nack(BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                })
                .await?;
        }
        Outcome::Park(reason) => {
            tracing::warn!(%reason, "inbound case refused; parked");
            let props = with_header(
                delivery.properties.clone(),
                ERROR_HEADER,
                AMQPValue::LongString(LongString::from(reason.as_str())),
            );
            let confirm = park_ch
                .basic_publish(
                    "".into(),
                    door.parking_queue().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    &delivery.data,
                    props,
                )
                .await?
                .await?;
            if confirm.is_ack() && confirm.take_message().is_none() {
                delivery.ack(BasicAckOptions::default()).await?;
            } else {
                // The parking queue did not take it: dead-letter it there
                // (without the reason header) rather than lose it.
                delivery
                    .nack(BasicNackOptions {
                        requeue: false,
                        ..Default::default()
                    })
                    .await?;
            }
        }
    }
    Ok(())
}
