//! Declares exchanges and queues. Every declaration is idempotent, so each
//! service declares what it uses at start and after every reconnect.
use std::time::Duration;

use lapin::{
    Channel, ExchangeKind,
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable, LongString},
};

use crate::{EVENTS_EXCHANGE, PARKING_EXCHANGE, RETRY_EXCHANGE};

/// How a consuming service's queues are laid out.
#[derive(Debug, Clone)]
pub struct ConsumerTopology {
    /// Queue name prefix: the consuming service (`issues`, `supervision` …).
    pub service: String,
    /// Routing-key patterns bound to the main queue (`registry.visit.*` …).
    pub bindings: Vec<String>,
    /// Delay before each retry: attempt n waits `retry_delays[n-1]`; after
    /// the last one the message is parked.
    pub retry_delays: Vec<Duration>,
}

impl ConsumerTopology {
    /// The main (work) queue.
    pub fn queue(&self) -> String {
        format!("{}.events", self.service)
    }
    /// The parking queue an operator inspects and replays.
    pub fn parking_queue(&self) -> String {
        format!("{}.parking", self.service)
    }
    /// Routing key (on `zoufang.retry`) and queue name of a retry delay.
    pub fn retry_queue(&self, delay: Duration) -> String {
        format!("{}.retry.{}ms", self.service, delay.as_millis())
    }
    /// Bounded exponential delays: `base`, 2×, 4× … `retries` of them.
    pub fn exponential(base: Duration, retries: u32) -> Vec<Duration> {
        (0..retries).map(|i| base * 2u32.pow(i)).collect()
    }
}

/// Declares the three shared exchanges.
pub async fn declare_exchanges(ch: &Channel) -> lapin::Result<()> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    ch.exchange_declare(
        EVENTS_EXCHANGE.into(),
        ExchangeKind::Topic,
        durable,
        FieldTable::default(),
    )
    .await?;
    for name in [RETRY_EXCHANGE, PARKING_EXCHANGE] {
        ch.exchange_declare(
            name.into(),
            ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await?;
    }
    Ok(())
}

fn str_arg(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

/// Declares a consuming service's main, retry and parking queues and binds them.
pub async fn declare_consumer(ch: &Channel, t: &ConsumerTopology) -> lapin::Result<()> {
    declare_exchanges(ch).await?;
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    // Parking: a quorum queue nobody consumes automatically.
    let mut parking_args = FieldTable::default();
    parking_args.insert("x-queue-type".into(), str_arg("quorum"));
    ch.queue_declare(t.parking_queue().into(), durable, parking_args)
        .await?;
    ch.queue_bind(
        t.parking_queue().into(),
        PARKING_EXCHANGE.into(),
        t.service.clone().into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;

    // Main queue: quorum; a rejected message dead-letters to parking, and a
    // message that keeps crashing consumers is parked after 20 deliveries.
    let mut main_args = FieldTable::default();
    main_args.insert("x-queue-type".into(), str_arg("quorum"));
    main_args.insert("x-dead-letter-exchange".into(), str_arg(PARKING_EXCHANGE));
    main_args.insert("x-dead-letter-routing-key".into(), str_arg(&t.service));
    main_args.insert("x-delivery-limit".into(), AMQPValue::LongInt(20));
    ch.queue_declare(t.queue().into(), durable, main_args)
        .await?;
    for key in &t.bindings {
        ch.queue_bind(
            t.queue().into(),
            EVENTS_EXCHANGE.into(),
            key.clone().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    }

    // Retry queues: messages wait out their TTL, then dead-letter through
    // the default exchange straight back into the main queue.
    for delay in &t.retry_delays {
        let name = t.retry_queue(*delay);
        let mut args = FieldTable::default();
        args.insert(
            "x-message-ttl".into(),
            AMQPValue::LongLongInt(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)),
        );
        args.insert("x-dead-letter-exchange".into(), str_arg(""));
        args.insert("x-dead-letter-routing-key".into(), str_arg(&t.queue()));
        ch.queue_declare(name.clone().into(), durable, args).await?;
        ch.queue_bind(
            name.clone().into(),
            RETRY_EXCHANGE.into(),
            name.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_delays() {
        let t = ConsumerTopology {
            service: "issues".into(),
            bindings: vec!["registry.visit.*".into()],
            retry_delays: ConsumerTopology::exponential(Duration::from_millis(500), 3),
        };
        assert_eq!(t.queue(), "issues.events");
        assert_eq!(t.parking_queue(), "issues.parking");
        let names: Vec<_> = t.retry_delays.iter().map(|d| t.retry_queue(*d)).collect();
        assert_eq!(
            names,
            vec![
                "issues.retry.500ms",
                "issues.retry.1000ms",
                "issues.retry.2000ms"
            ]
        );
    }
}
