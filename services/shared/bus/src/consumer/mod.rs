//! Idempotent event consumers: each event id is recorded in the service's
//! `inbox` table in the same transaction as the handler's effect, so a
//! redelivered event changes nothing.
//!
//! Failures: a handler error is retried through the delay queues with
//! exponential back-off, then the message is parked; an undecodable message
//! is parked at once. Losing PostgreSQL or RabbitMQ ends the session: the
//! unacknowledged messages go back to the queue and the consumer reconnects.
//!
//! Metrics: outcomes by queue, the lag of applied events, and the depth of
//! the parking queue, read from the broker every [`PARKED_POLL`] while the
//! consumer is connected.
use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use futures::StreamExt;
use lapin::{
    Channel,
    message::Delivery,
    options::{BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions},
    types::{AMQPValue, FieldTable, LongString},
};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use zoufang_core::{metrics, telemetry};
use zoufang_proto::catalogue::Event;

use crate as bus;
use crate::{
    Envelope, PARKING_EXCHANGE, RETRY_EXCHANGE,
    envelope::{ATTEMPT_HEADER, ERROR_HEADER, with_header},
    topology::{ConsumerTopology, declare_consumer},
};

/// A delivered event: its envelope and protobuf payload.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    /// CloudEvents attributes, routing key, county, trace context.
    pub envelope: Envelope,
    /// The protobuf-encoded data.
    pub payload: Vec<u8>,
}

impl IncomingEvent {
    /// Decodes the payload as any message `M` (a test topology's own keys);
    /// a payload that does not decode is parked. Handlers of catalogue
    /// events use [`Self::decode_if`].
    pub fn decode<M: prost::Message + Default>(&self) -> Result<M, HandlerError> {
        M::decode(self.payload.as_slice()).map_err(|e| {
            HandlerError::Park(anyhow::anyhow!(
                "payload of {} does not decode: {e}",
                self.envelope.routing_key
            ))
        })
    }

    /// Whether the event travels under one of the keys of payload `E`.
    pub fn is<E: Event>(&self) -> bool {
        E::KEYS.contains(&self.envelope.routing_key.as_str())
    }

    /// The payload as the event type `E` when the event's routing key is
    /// one of `E`'s (see the catalogue), `None` when it is not: a handler
    /// dispatches by payload type, so the key it was bound to and the type
    /// it decodes cannot disagree. Parked: a payload that does not decode,
    /// and one whose typed change names another key than it came with.
    pub fn decode_if<E: Event>(&self) -> Result<Option<E>, HandlerError> {
        if !self.is::<E>() {
            return Ok(None);
        }
        let payload: E = self.decode()?;
        match payload.routing_key() {
            Some(key) if key != self.envelope.routing_key => {
                Err(HandlerError::Park(anyhow::anyhow!(
                    "the payload of {} names the change of {key}",
                    self.envelope.routing_key
                )))
            }
            _ => Ok(Some(payload)),
        }
    }
}

/// The events a consumer takes, named by payload type: the routing keys
/// its queue binds come from the catalogue's [`Event`] types, e.g.
/// `Inputs::new().all::<VisitRecorded>().only::<IssueChanged>(&[issues::RESOLVED])`.
/// Its handler decodes by the same types ([`IncomingEvent::decode_if`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs(Vec<&'static str>);

impl Inputs {
    /// Takes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes every event carrying `E`: binds its keys, or its family's
    /// wildcard (see [`Event::BINDINGS`]; an event under a key this build
    /// does not know is then parked by the handler, not dropped).
    pub fn all<E: Event>(mut self) -> Self {
        self.0.extend(E::BINDINGS);
        self
    }

    /// Takes the events carrying `E` under `keys`. Panics when one of them
    /// is not a key of `E` (a programming error the service's tests catch).
    pub fn only<E: Event>(mut self, keys: &[&'static str]) -> Self {
        for key in keys {
            assert!(
                E::KEYS.contains(key),
                "{key} does not carry a {}",
                std::any::type_name::<E>()
            );
        }
        self.0.extend(keys);
        self
    }

    /// The routing keys to bind, each once, in the order taken.
    pub fn keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::with_capacity(self.0.len());
        for key in &self.0 {
            if !keys.contains(key) {
                keys.push(*key);
            }
        }
        keys
    }
}

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Might work later (a conflict, a timeout): retry with back-off.
    #[error("retry: {0:#}")]
    Retry(anyhow::Error),
    /// Will never work (undecodable, unknown type): park it now.
    #[error("park: {0:#}")]
    Park(anyhow::Error),
    /// The database went away: end the session, the message is redelivered.
    #[error("infrastructure: {0:#}")]
    Infrastructure(anyhow::Error),
}

/// Why a consumed event can never be applied as it is, whatever the
/// handler's store does: e.g. an enum field with a value this build does not
/// know. A handler's `anyhow` error carrying one parks the event (see
/// [`HandlerError::retry_or_park`]) instead of going through the retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Poison(pub String);

impl From<Poison> for HandlerError {
    fn from(p: Poison) -> Self {
        Self::Park(p.into())
    }
}

/// The enum field `field` of a consumed event as the proto enum `E`; a value
/// `E` does not know (a newer publisher's, or garbage) is [`Poison`] rather
/// than silently becoming a default. `UNSPECIFIED` (0) is known: what it
/// means is the caller's business.
pub fn known_enum<E: TryFrom<i32>>(field: &str, value: i32) -> Result<E, Poison> {
    E::try_from(value).map_err(|_| {
        Poison(format!(
            "{field} has the unknown value {value} (a {})",
            std::any::type_name::<E>()
                .rsplit("::")
                .next()
                .unwrap_or("enum")
        ))
    })
}

/// The typed change of a consumed event (`IssueChanged.change`,
/// `PetitionCaseChanged.change`, `CallbackTask.change`): like
/// [`known_enum`], and `UNSPECIFIED` (a publisher that did not say which
/// change it announces) is [`Poison`] as well: no change is taken for
/// another, nor for none.
pub fn known_change<E: TryFrom<i32> + Default + PartialEq>(value: i32) -> Result<E, Poison> {
    let change: E = known_enum("change", value)?;
    if change == E::default() {
        return Err(Poison("change is unspecified".into()));
    }
    Ok(change)
}

impl From<sqlx::Error> for HandlerError {
    /// A database that is away (also a session ended by a PostgreSQL
    /// restart, 57P01) ends the session and the delivery comes back, in
    /// order; only a failed statement goes through the retry queues, whose
    /// attempts are counted and then parked and which let later events of
    /// the same key overtake it.
    fn from(e: sqlx::Error) -> Self {
        if zoufang_core::db::is_unavailable(&e) {
            Self::Infrastructure(e.into())
        } else {
            Self::Retry(e.into())
        }
    }
}

impl HandlerError {
    /// A handler's failure: parked when its cause is [`Poison`] (the event
    /// will never apply), retried otherwise.
    pub fn retry_or_park(e: anyhow::Error) -> Self {
        if e.chain().any(|c| c.is::<Poison>()) {
            Self::Park(e)
        } else {
            Self::Retry(e)
        }
    }

    /// A handler's `Retry` whose cause is a database that is away (handlers
    /// turn their store's errors into `Retry` wholesale) becomes
    /// `Infrastructure`, like the consumer's own database errors: see
    /// `From<sqlx::Error>`.
    fn unless_unavailable(self) -> Self {
        match self {
            Self::Retry(e) if zoufang_core::db::is_unavailable_cause(&e) => Self::Infrastructure(e),
            other => other,
        }
    }
}

/// Applies events of the types bound to a service's queue.
pub trait EventHandler: Send + Sync + 'static {
    /// Applies `event` using `tx`, the transaction that also records the
    /// event in the inbox. Returning an error rolls both back.
    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        event: &'a IncomingEvent,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// A service's consumer: its queues, its handler and its database.
#[derive(Debug)]
pub struct Consumer<H> {
    pool: PgPool,
    amqp_url: String,
    topology: ConsumerTopology,
    handler: Arc<H>,
    prefetch: u16,
    lanes: usize,
    ordering: Ordering,
    batch: usize,
    parked_poll: Duration,
}

/// The most deliveries a lane applies in one transaction by default.
pub const DEFAULT_BATCH: usize = 32;

/// How often a connected consumer reads its parking queue's depth.
pub const PARKED_POLL: Duration = Duration::from_secs(10);

/// Which events must be applied in the order they were published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// All events of one county, in order (one lane per county).
    County,
    /// All events of one subject (one visit, one issue …), in order; events
    /// of different subjects of a county may overtake each other.
    Subject,
}

impl Ordering {
    /// The lane a delivery belongs to.
    fn lane_of(self, delivery: &Delivery, lanes: usize) -> usize {
        use std::hash::{Hash, Hasher};
        let headers = delivery
            .properties
            .headers()
            .as_ref()
            .map(bus::headers_to_map)
            .unwrap_or_default();
        let key = match self {
            Self::County => headers.get(bus::envelope::COUNTY_HEADER),
            Self::Subject => headers.get("ce-subject"),
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        (h.finish() % lanes.max(1) as u64) as usize
    }
}

enum Outcome {
    Applied,
    Duplicate,
    Retried,
    Parked,
}

impl<H: EventHandler> Consumer<H> {
    /// A consumer of `topology`'s main queue applying events with `handler`.
    pub fn new(pool: PgPool, amqp_url: &str, topology: ConsumerTopology, handler: H) -> Self {
        Self {
            pool,
            amqp_url: amqp_url.to_owned(),
            topology,
            handler: Arc::new(handler),
            // Room for every lane to gather a whole batch when a backlog
            // builds up (the broker holds the rest).
            prefetch: u16::try_from(8 * DEFAULT_BATCH).unwrap_or(u16::MAX),
            lanes: 8,
            ordering: Ordering::County,
            batch: DEFAULT_BATCH,
            parked_poll: PARKED_POLL,
        }
    }

    /// Reads the parking queue's depth (`zf_consumer_parked_messages`) this
    /// often instead of every [`PARKED_POLL`].
    pub fn with_parked_poll(mut self, every: Duration) -> Self {
        self.parked_poll = every.max(Duration::from_millis(10));
        self
    }

    /// Applies events concurrently across `lanes`, keeping `ordering`.
    pub fn with_lanes(mut self, lanes: usize, ordering: Ordering) -> Self {
        self.lanes = lanes.max(1);
        self.ordering = ordering;
        self
    }

    /// Applies at most `batch` waiting deliveries of a lane in one
    /// transaction (1: every event in a transaction of its own).
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Runs until `shutdown` is cancelled, reconnecting with back-off.
    pub async fn run(self, shutdown: CancellationToken) {
        let what = format!("consumer of {}", self.topology.queue());
        bus::reconnecting(&what, &shutdown, |connected| {
            self.session(&shutdown, connected)
        })
        .await;
        tracing::info!(queue = %self.topology.queue(), "consumer stopped");
    }

    async fn session(
        &self,
        shutdown: &CancellationToken,
        connected: bus::Connected,
    ) -> anyhow::Result<()> {
        let name = format!("{}-consumer", self.topology.service);
        let conn = bus::connect(&self.amqp_url, &name).await?;
        let consume_ch = conn.create_channel().await?;
        let publish_ch = bus::confirm_channel(&conn).await?;
        declare_consumer(&consume_ch, &self.topology).await?;
        consume_ch
            .basic_qos(self.prefetch, BasicQosOptions::default())
            .await?;
        let mut deliveries = consume_ch
            .basic_consume(
                self.topology.queue().into(),
                name.into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        tracing::info!(queue = %self.topology.queue(), lanes = self.lanes, "consumer connected");
        connected.mark();

        // Deliveries run in lanes: the same ordering key always takes the same
        // lane (so its events stay in order), different keys run concurrently.
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..self.lanes.max(1))
            .map(|_| tokio::sync::mpsc::channel::<Delivery>(usize::from(self.prefetch)))
            .unzip();
        let lanes = futures::future::try_join_all(
            receivers.into_iter().map(|rx| self.lane(rx, &publish_ch)),
        );
        let dispatch = async {
            loop {
                let delivery = tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    d = deliveries.next() => d,
                };
                let delivery = match delivery {
                    Some(d) => d.context("consuming")?,
                    None => anyhow::bail!("the broker cancelled the consumer"),
                };
                let lane = self.ordering.lane_of(&delivery, senders.len());
                senders[lane]
                    .send(delivery)
                    .await
                    .map_err(|_| anyhow::anyhow!("a consumer lane stopped"))?;
            }
        };
        let result = tokio::select! {
            r = lanes => r.map(|_| ()),
            r = dispatch => r,
            never = self.watch_parked(&conn) => match never {},
        };
        if result.is_ok() {
            let _ = conn.close(200, "shutdown".into()).await;
        }
        result
    }

    /// Sets `zf_consumer_parked_messages` to the parking queue's depth every
    /// `parked_poll`, by a passive declare (no message moves) on a channel of
    /// its own: if an operator deleted the queue, the broker closes only that
    /// channel, and the next round opens another. Never returns.
    async fn watch_parked(&self, conn: &lapin::Connection) -> std::convert::Infallible {
        let gauge = metrics::CONSUMER_PARKED.with_label_values(&[&self.topology.queue()]);
        let parking = self.topology.parking_queue();
        let mut ch: Option<Channel> = None;
        let mut tick = tokio::time::interval(self.parked_poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if ch.as_ref().is_none_or(|c| !c.status().connected()) {
                ch = conn.create_channel().await.ok();
            }
            let Some(c) = &ch else { continue };
            match bus::queue_depth(c, &parking).await {
                Ok(n) => gauge.set(i64::from(n)),
                Err(e) => {
                    tracing::debug!(queue = %parking, error = %e,
                        "cannot read the parking queue's depth");
                    ch = None;
                }
            }
        }
    }

    /// Processes one lane's deliveries in order, acknowledging each. The
    /// deliveries already waiting when the lane takes one are applied with
    /// it as one batch (see [`Self::apply_batch`]): under load a lane
    /// commits once per batch instead of once per event, and when idle it
    /// still applies each event as it comes.
    async fn lane(
        &self,
        mut rx: tokio::sync::mpsc::Receiver<Delivery>,
        publish_ch: &Channel,
    ) -> anyhow::Result<()> {
        let mut waiting = Vec::with_capacity(self.batch);
        while rx.recv_many(&mut waiting, self.batch).await > 0 {
            let batch = std::mem::take(&mut waiting);
            let outcomes = match self.apply_batch(&batch).await? {
                Some(outcomes) => outcomes,
                // Something in the batch failed: nothing of it was kept, and
                // each event goes its own way (retry, park) as if alone.
                None => {
                    let mut outcomes = Vec::with_capacity(batch.len());
                    for delivery in &batch {
                        outcomes.push(self.process(delivery, publish_ch).await?);
                    }
                    outcomes
                }
            };
            for (delivery, outcome) in batch.iter().zip(outcomes) {
                delivery.ack(BasicAckOptions::default()).await?;
                self.count(outcome);
            }
        }
        Ok(())
    }

    fn count(&self, outcome: Outcome) {
        let label = match outcome {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
            Outcome::Retried => "retried",
            Outcome::Parked => "parked",
        };
        metrics::CONSUMED
            .with_label_values(&[&self.topology.queue(), label])
            .inc();
    }

    /// Applies a batch of deliveries in one transaction: one inbox insert
    /// for all of them, then the handler for each new one in order, then
    /// one commit. Nothing is kept unless everything applies: Ok(None) when
    /// a delivery does not decode or a handler fails (the caller then takes
    /// them one by one, so one bad event costs its neighbours only a second
    /// try); Err when the database is away (nothing is acknowledged, all
    /// come back). A batch of one goes the single path straight away.
    async fn apply_batch(&self, batch: &[Delivery]) -> anyhow::Result<Option<Vec<Outcome>>> {
        if batch.len() < 2 {
            return Ok(None);
        }
        let mut events = Vec::with_capacity(batch.len());
        for delivery in batch {
            match Envelope::from_properties(&delivery.properties, delivery.routing_key.as_str()) {
                Ok(envelope) => events.push(IncomingEvent {
                    envelope,
                    payload: delivery.data.clone(),
                }),
                Err(_) => return Ok(None),
            }
        }
        let result: Result<Vec<bool>, HandlerError> = async {
            let mut tx = self.pool.begin().await?;
            let fresh = self.record_in_inbox(&mut tx, &events).await?;
            for (event, &fresh) in events.iter().zip(&fresh) {
                if !fresh {
                    tracing::debug!(event_id = %event.envelope.id, "duplicate event ignored");
                    continue;
                }
                self.handler
                    .handle(&mut tx, event)
                    .instrument(self.consume_span(&event.envelope))
                    .await
                    .map_err(HandlerError::unless_unavailable)?;
            }
            tx.commit().await?;
            Ok(fresh)
        }
        .await;
        match result {
            Ok(fresh) => Ok(Some(
                events
                    .iter()
                    .zip(fresh)
                    .map(|(event, fresh)| {
                        if fresh {
                            self.observe_lag(event);
                            Outcome::Applied
                        } else {
                            Outcome::Duplicate
                        }
                    })
                    .collect(),
            )),
            Err(HandlerError::Infrastructure(e)) => Err(e),
            Err(e) => {
                tracing::debug!(events = events.len(), error = %e,
                    "a batch failed; applying its events one by one");
                Ok(None)
            }
        }
    }

    /// Records the events' ids in the inbox in one statement; for each, true
    /// when it was not there yet (so it is to be applied).
    async fn record_in_inbox(
        &self,
        tx: &mut PgConnection,
        events: &[IncomingEvent],
    ) -> sqlx::Result<Vec<bool>> {
        let counties: Vec<&str> = events.iter().map(|e| inbox_county(&e.envelope)).collect();
        let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.envelope.id).collect();
        let keys: Vec<&str> = events
            .iter()
            .map(|e| e.envelope.routing_key.as_str())
            .collect();
        // The same event twice in one batch (a redelivery overtaking its
        // first copy) is inserted once: the first copy is the fresh one.
        let inserted: Vec<uuid::Uuid> = sqlx::query_scalar(
            "INSERT INTO inbox (county, event_id, routing_key)
             SELECT DISTINCT ON (event_id) county, event_id, routing_key
               FROM unnest($1::text[], $2::uuid[], $3::text[]) AS e(county, event_id, routing_key)
             ON CONFLICT DO NOTHING
             RETURNING event_id",
        )
        .bind(&counties)
        .bind(&ids)
        .bind(&keys)
        .fetch_all(&mut *tx)
        .await?;
        let mut inserted: std::collections::HashSet<uuid::Uuid> = inserted.into_iter().collect();
        Ok(ids.iter().map(|id| inserted.remove(id)).collect())
    }

    /// A consumer span (OpenTelemetry messaging conventions), so trace
    /// viewers draw the queue hop as one.
    fn consume_span(&self, envelope: &Envelope) -> tracing::Span {
        let span = tracing::info_span!("consume", otel.name = %format!("consume {}", envelope.routing_key), otel.kind = "consumer",
            event_id = %envelope.id, queue = %self.topology.queue());
        telemetry::set_parent_from(&span, &envelope.trace);
        span
    }

    fn observe_lag(&self, event: &IncomingEvent) {
        let lag = (chrono::Utc::now() - event.envelope.time).num_milliseconds();
        metrics::CONSUMER_LAG
            .with_label_values(&[&self.topology.queue()])
            .observe(lag.max(0) as f64 / 1000.0);
    }

    /// Applies one delivery; Err only for infrastructure failures (the
    /// delivery is then left unacknowledged and comes back).
    async fn process(&self, delivery: &Delivery, publish_ch: &Channel) -> anyhow::Result<Outcome> {
        let envelope =
            match Envelope::from_properties(&delivery.properties, delivery.routing_key.as_str()) {
                Ok(e) => e,
                Err(reason) => {
                    self.park(delivery, publish_ch, &reason).await?;
                    return Ok(Outcome::Parked);
                }
            };
        let span = self.consume_span(&envelope);
        let event = IncomingEvent {
            envelope,
            payload: delivery.data.clone(),
        };
        let result = self.apply(&event).instrument(span).await;
        match result {
            Ok(true) => {
                self.observe_lag(&event);
                Ok(Outcome::Applied)
            }
            Ok(false) => Ok(Outcome::Duplicate),
            Err(HandlerError::Infrastructure(e)) => Err(e),
            Err(HandlerError::Park(e)) => {
                tracing::warn!(event_id = %event.envelope.id, error = format!("{e:#}"), "parking event");
                self.park(delivery, publish_ch, &format!("{e:#}")).await?;
                Ok(Outcome::Parked)
            }
            Err(HandlerError::Retry(e)) => {
                let attempt = event.envelope.attempt as usize;
                let reason = format!("{e:#}");
                match self.topology.retry_delays.get(attempt) {
                    Some(delay) => {
                        tracing::warn!(event_id = %event.envelope.id, attempt = attempt + 1,
                            error = %reason, "retrying event");
                        let key = self.topology.retry_queue(*delay);
                        let props = with_header(
                            with_header(
                                delivery.properties.clone(),
                                ATTEMPT_HEADER,
                                AMQPValue::LongUInt(event.envelope.attempt + 1),
                            ),
                            ERROR_HEADER,
                            AMQPValue::LongString(LongString::from(reason.as_str())),
                        );
                        publish_confirmed(publish_ch, RETRY_EXCHANGE, &key, &delivery.data, props)
                            .await?;
                        Ok(Outcome::Retried)
                    }
                    None => {
                        tracing::error!(event_id = %event.envelope.id, error = %reason,
                            "retries exhausted, parking event");
                        self.park(delivery, publish_ch, &reason).await?;
                        Ok(Outcome::Parked)
                    }
                }
            }
        }
    }

    /// Records the event in the inbox and applies it, in one transaction.
    /// Ok(false) when the inbox already had it.
    async fn apply(&self, event: &IncomingEvent) -> Result<bool, HandlerError> {
        let mut tx = self.pool.begin().await?;
        let county = inbox_county(&event.envelope);
        let fresh = sqlx::query(
            "INSERT INTO inbox (county, event_id, routing_key) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(county)
        .bind(event.envelope.id)
        .bind(&event.envelope.routing_key)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            tracing::debug!(event_id = %event.envelope.id, "duplicate event ignored");
            return Ok(false);
        }
        self.handler
            .handle(&mut tx, event)
            .await
            .map_err(HandlerError::unless_unavailable)?;
        tx.commit().await?;
        Ok(true)
    }

    async fn park(&self, delivery: &Delivery, ch: &Channel, reason: &str) -> anyhow::Result<()> {
        let props = with_header(
            delivery.properties.clone(),
            ERROR_HEADER,
            AMQPValue::LongString(LongString::from(reason)),
        );
        publish_confirmed(
            ch,
            PARKING_EXCHANGE,
            &self.topology.service,
            &delivery.data,
            props,
        )
        .await
    }
}

/// The county an event is filed under in the inbox (its distribution
/// column): the envelope's, or 000000 for an event without one.
fn inbox_county(envelope: &Envelope) -> &str {
    if envelope.county.len() == 6 {
        envelope.county.as_str()
    } else {
        "000000"
    }
}

async fn publish_confirmed(
    ch: &Channel,
    exchange: &str,
    key: &str,
    data: &[u8],
    props: lapin::BasicProperties,
) -> anyhow::Result<()> {
    let confirm = ch
        .basic_publish(
            exchange.into(),
            key.into(),
            BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            data,
            props,
        )
        .await?
        .await?;
    anyhow::ensure!(
        confirm.is_ack() && confirm.take_message().is_none(),
        "broker did not take the message on {exchange}/{key}"
    );
    Ok(())
}

/// Retry delays used by services unless configured otherwise: 1 s, 2 s, 4 s, 8 s, 16 s.
pub fn default_retry_delays() -> Vec<Duration> {
    ConsumerTopology::exponential(Duration::from_secs(1), 5)
}

#[cfg(test)]
mod tests;
