//! The AMQP door, for petition systems on the same broker: they publish a
//! case as JSON (the webhook's schema) to the topic exchange
//! `zoufang.petition.inbound` (any routing key, e.g. the source's name), and
//! the bridge takes it in from its durable quorum queue. The broker's
//! credentials stand in for the webhook's signature. A message that is not
//! a valid case is dead-lettered to `<queue>.parking` with the reason in
//! the log; a failure of ours (database down) puts it back to be retried.
use std::time::Duration;

use futures::StreamExt;
use lapin::{
    ExchangeKind,
    message::Delivery,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
        ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable, LongString},
};
use tokio_util::sync::CancellationToken;
use zoufang_runtime::{ServiceError, bus};

use crate::{
    domain::inbound,
    ops::{
        State,
        intake::{Refused, intake},
    },
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
    bus::reconnecting(&what, &shutdown, |connected| {
        session(&state, &door, &shutdown, connected)
    })
    .await;
}

async fn session(
    state: &State,
    door: &Door,
    shutdown: &CancellationToken,
    connected: bus::Connected,
) -> anyhow::Result<()> {
    let conn = bus::connect(&door.amqp_url, "petition-inbound").await?;
    let ch = conn.create_channel().await?;
    declare(&ch, door).await?;
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
        handle(state, &delivery).await?;
    }
    let _ = conn.close(200, "shutdown".into()).await;
    Ok(())
}

/// Takes one message in; Err only when the connection itself failed.
async fn handle(state: &State, delivery: &Delivery) -> anyhow::Result<()> {
    let outcome = match inbound::parse(&delivery.data, chrono::Utc::now()) {
        Err(e) => Err(e),
        Ok(case) => {
            let actor = format!("amqp:{}", case.source_system);
            match intake(state, &case, &actor, None, None).await {
                Ok((row, applied)) => {
                    tracing::info!(case_id = %row.case_id, result = applied.as_str(), "case from AMQP");
                    Ok(())
                }
                Err(Refused::Service(e)) => Err(e),
                Err(Refused::Replay) => Ok(()),
            }
        }
    };
    match outcome {
        Ok(()) => {
            delivery.ack(BasicAckOptions::default()).await?;
        }
        Err(e @ (ServiceError::Internal(_) | ServiceError::Aborted(_))) => {
            // Ours, not the message's: back on the queue after a pause.
            tracing::warn!(error = %e, "inbound case failed; requeued");
            tokio::time::sleep(Duration::from_secs(1)).await;
            delivery
                .nack(BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                })
                .await?;
        }
        Err(e) => {
            tracing::warn!(reason = %e, "inbound case refused; parked");
            delivery
                .nack(BasicNackOptions {
                    requeue: false,
                    ..Default::default()
                })
                .await?;
        }
    }
    Ok(())
}
