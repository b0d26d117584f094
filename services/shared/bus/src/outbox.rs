//! The transactional outbox: a service writes its events into its own
//! `outbox` table in the same transaction as the state change ([`enqueue`]);
//! the [`OutboxRelay`] publishes them with publisher confirms and marks a row
//! sent only after the broker acknowledged it.
//!
//! Order: one relay at a time works a schema's outbox (a transaction-level
//! advisory lock), publishing rows in `seq` order on one channel, so the
//! events of a township leave in commit order. A crash between publish and
//! mark publishes the row again: delivery is at-least-once and consumers
//! deduplicate through their inbox.
use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use lapin::{Channel, Confirmation, options::BasicPublishOptions};
use sqlx::{PgConnection, PgPool, postgres::PgListener};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use zoufang_core::{metrics, telemetry};
use zoufang_proto::catalogue::{Event, SingleKey};

use crate as bus;
use crate::{EVENTS_EXCHANGE, Envelope};

/// An event to publish once the surrounding transaction commits.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `<service>.<entity>.<verb>`.
    pub routing_key: &'static str,
    /// Region code the event belongs to (at least the 6-digit county part).
    pub region_code: String,
    /// CloudEvents subject, e.g. `visits/<uuid>`.
    pub subject: String,
    /// Protobuf-encoded payload.
    pub payload: Vec<u8>,
}

impl NewEvent {
    /// The event of a payload with one routing key (`VisitRecorded`,
    /// `SessionsRevoked` …): the catalogue names its key.
    pub fn of<E: SingleKey>(payload: &E, region_code: &str, subject: String) -> Self {
        Self::under(E::KEY, payload, region_code, subject)
    }

    /// The event of a payload that carries its change as an enum
    /// (`IssueChanged`, `PetitionCaseChanged`, `CallbackTask`): its key is
    /// the one the catalogue maps that change to. An error when the change
    /// is `UNSPECIFIED` (a publisher's bug: nothing is written).
    pub fn of_change<E: Event>(
        payload: &E,
        region_code: &str,
        subject: String,
    ) -> anyhow::Result<Self> {
        let key = payload.routing_key().ok_or_else(|| {
            anyhow::anyhow!(
                "a {} names no routing key of the catalogue (its change is unspecified)",
                short_type_name::<E>()
            )
        })?;
        Ok(Self::under(key, payload, region_code, subject))
    }

    /// The event of a payload published under `key`, one of the payload's
    /// keys the publisher picks (`CallbackCompleted`: completed or
    /// unreachable, which its outcome, not a field, tells apart).
    pub fn under<E: Event>(
        key: &'static str,
        payload: &E,
        region_code: &str,
        subject: String,
    ) -> Self {
        debug_assert!(
            E::KEYS.contains(&key),
            "{key} is not a key of {}",
            short_type_name::<E>()
        );
        Self {
            routing_key: key,
            region_code: region_code.to_owned(),
            subject,
            payload: payload.encode_to_vec(),
        }
    }
}

/// `VisitRecorded` for `zoufang_proto::events::v1::VisitRecorded`.
fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

/// Writes `event` into the outbox on `conn` (call it inside the transaction
/// of the state change). Returns the event id. The current span's trace
/// context is stored with it, so consumers continue the same trace.
pub async fn enqueue(conn: &mut PgConnection, event: NewEvent) -> sqlx::Result<Uuid> {
    let row = event.into_row();
    let id = row.event_id;
    row.bind(sqlx::query(
        "INSERT INTO outbox (county, event_id, routing_key, subject, payload, trace_headers)
         VALUES ($1, $2, $3, $4, $5, $6)",
    ))
    .execute(conn)
    .await?;
    Ok(id)
}

/// The outbox row of one event, for a statement that writes the event
/// itself as one part of a bigger statement (see [`OutboxRow::push_cte`]).
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// The 6-digit county, zero-padded.
    pub county: String,
    /// A v7 id, so ids sort by creation.
    pub event_id: Uuid,
    pub routing_key: &'static str,
    pub subject: String,
    pub payload: Vec<u8>,
    /// The current span's W3C trace context.
    pub trace_headers: serde_json::Value,
}

impl NewEvent {
    /// The row [`enqueue`] writes for this event, with a new id and the
    /// current span's trace context.
    pub fn into_row(self) -> OutboxRow {
        let county: String = self.region_code.chars().take(6).collect();
        OutboxRow {
            county: format!("{county:0<6}"),
            event_id: Uuid::now_v7(),
            routing_key: self.routing_key,
            subject: self.subject,
            payload: self.payload,
            trace_headers: serde_json::to_value(telemetry::current_trace_headers())
                .unwrap_or_default(),
        }
    }
}

impl OutboxRow {
    /// Binds the six values in the column order of [`enqueue`].
    pub fn bind<'q>(
        self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        query
            .bind(self.county)
            .bind(self.event_id)
            .bind(self.routing_key)
            .bind(self.subject)
            .bind(self.payload)
            .bind(self.trace_headers)
    }
}

impl OutboxRow {
    /// Adds this event to the statement `query` is building, as the
    /// data-modifying CTE `name AS (INSERT INTO outbox …)`, binding the
    /// row's values at the builder's next parameters and writing it once
    /// for each row of the CTE `gate` (so the event is written only when the
    /// state change happened). Push it between the statement's CTEs (the
    /// commas are the caller's): one statement is one transaction, so the
    /// event still commits with the change.
    ///
    /// It also asks the outbox trigger not to NOTIFY inside the transaction:
    /// the caller calls [`wake`] after the statement instead. A NOTIFY queued in
    /// a transaction takes a database-wide lock held through its commit, so
    /// every transaction that notifies commits alone, each waiting for its own
    /// WAL flush (16 clients of INSERT + pg_notify: about a tenth of the plain
    /// INSERT rate on the benchmark machine). A wake-up lost to a crash between
    /// commit and [`wake`] only delays the event to the relay's next poll.
    /// (Inside an explicit transaction the setting lasts until its end, so
    /// wake after that commit.)
    pub fn push_cte(self, query: &mut sqlx::QueryBuilder<sqlx::Postgres>, name: &str, gate: &str) {
        query.push(format_args!(
            "{name} AS (
            INSERT INTO outbox (county, event_id, routing_key, subject, payload, trace_headers)
            SELECT "
        ));
        query.push_bind(self.county).push("::char(6), ");
        query.push_bind(self.event_id).push("::uuid, ");
        query.push_bind(self.routing_key).push("::text, ");
        query.push_bind(self.subject).push("::text, ");
        query.push_bind(self.payload).push("::bytea, ");
        query.push_bind(self.trace_headers).push(format_args!(
            "::jsonb
            FROM {gate}, (SELECT set_config('{WAKE_SETTING}', 'after_commit', true)) AS deferred_wake
         )"
        ));
    }
}

/// The transaction-local setting by which a statement tells the outbox
/// trigger (runtime migration 0002) that its writer wakes the relays itself.
const WAKE_SETTING: &str = "zoufang.outbox_wake";

/// Wakes the relays of this schema's outbox (every replica's listens) after
/// the commit of `event_ids`, written with [`OutboxRow::push_cte`] (or let
/// a [`Waker`] do it, off the caller's path): name
/// every event the transaction wrote, since a relay that has published all
/// the named ones already does nothing. Run outside any transaction that
/// writes: on its own it commits without waiting for a WAL flush, so it
/// serializes nothing.
pub async fn wake(ex: impl sqlx::PgExecutor<'_>, event_ids: &[Uuid]) -> sqlx::Result<()> {
    // A payload stops at 8000 bytes; beyond 100 ids name none, which relays
    // read as "look".
    let payload = if event_ids.len() <= 100 {
        event_ids
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(",")
    } else {
        String::new()
    };
    sqlx::query("SELECT pg_notify(current_schema() || '_outbox', $1)")
        .bind(payload)
        .execute(ex)
        .await?;
    Ok(())
}

/// Wakes the relays after commits without holding up the caller, and with
/// at most one NOTIFY in flight: the ids asked for meanwhile go in the next
/// one. Every NOTIFY in the cluster takes one lock (transactions that write
/// with the trigger's NOTIFY hold it through their commit), so a wake-up
/// may wait; it waits here, on one connection, not on the caller's.
#[derive(Debug, Clone)]
pub struct Waker {
    pool: PgPool,
    state: Arc<Mutex<WakeState>>,
}

#[derive(Debug, Default)]
struct WakeState {
    running: bool,
    pending: Vec<Uuid>,
}

impl Waker {
    /// A waker sending on `pool` (the service's schema on its search path).
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            state: Arc::default(),
        }
    }

    /// Asks for a wake-up naming `event_ids`, which must have committed;
    /// returns at once. A failed wake-up only delays the events to the
    /// relay's next poll, so it is logged, not returned.
    pub fn wake(&self, event_ids: &[Uuid]) {
        {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.pending.extend_from_slice(event_ids);
            if state.running {
                return;
            }
            state.running = true;
        }
        let this = self.clone();
        tokio::spawn(async move {
            // Should the task end early (a runtime shutting down), the next
            // wake-up must start another.
            let mut running = Running(Some(this.state.clone()));
            loop {
                let ids = {
                    let mut state = this.state.lock().unwrap_or_else(PoisonError::into_inner);
                    if state.pending.is_empty() {
                        // Under the lock, so ids added from now on start a task.
                        state.running = false;
                        running.0 = None;
                        return;
                    }
                    std::mem::take(&mut state.pending)
                };
                if let Err(e) = wake(&this.pool, &ids).await {
                    tracing::warn!(error = %e, "cannot wake the outbox relay; it will poll");
                }
            }
        });
    }
}

/// Marks a [`Waker`]'s task ended if it is dropped before it says so.
struct Running(Option<Arc<Mutex<WakeState>>>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(state) = &self.0 {
            state.lock().unwrap_or_else(PoisonError::into_inner).running = false;
        }
    }
}

/// Writes many events into the outbox in one statement (a batch import's
/// events), in the order given; like [`enqueue`] otherwise. Returns their ids.
pub async fn enqueue_many(conn: &mut PgConnection, events: &[NewEvent]) -> sqlx::Result<Vec<Uuid>> {
    if events.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<Uuid> = events.iter().map(|_| Uuid::now_v7()).collect();
    let trace = serde_json::to_value(telemetry::current_trace_headers()).unwrap_or_default();
    let counties: Vec<String> = events
        .iter()
        .map(|e| format!("{:0<6}", e.region_code.chars().take(6).collect::<String>()))
        .collect();
    sqlx::query(
        "INSERT INTO outbox (county, event_id, routing_key, subject, payload, trace_headers)
         SELECT county, event_id, routing_key, subject, payload, $6
         FROM UNNEST($1::char(6)[], $2::uuid[], $3::text[], $4::text[], $5::bytea[])
              WITH ORDINALITY AS e(county, event_id, routing_key, subject, payload, n)
         ORDER BY n",
    )
    .bind(&counties)
    .bind(&ids)
    .bind(events.iter().map(|e| e.routing_key).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.subject.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.payload.clone()).collect::<Vec<_>>())
    .bind(trace)
    .execute(conn)
    .await?;
    Ok(ids)
}

/// How long one batch may wait for the broker to take and confirm it.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(30);

/// How a relay runs.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The service's schema (the outbox table and the NOTIFY channel live there).
    pub schema: String,
    /// CloudEvents source, e.g. `/zoufang/registry`.
    pub source: String,
    /// Rows published per transaction.
    pub batch_size: i64,
    /// Poll even without a notification this often (a lost NOTIFY, a restart).
    pub poll_interval: Duration,
}

impl RelayConfig {
    /// Defaults for a service's schema.
    pub fn for_service(schema: &str) -> Self {
        Self {
            schema: schema.to_owned(),
            source: format!("/zoufang/{schema}"),
            batch_size: 500,
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// Publishes the outbox of one schema to RabbitMQ, forever, reconnecting
/// with back-off whenever the broker or the database goes away.
#[derive(Debug, Clone)]
pub struct OutboxRelay {
    pool: PgPool,
    amqp_url: String,
    config: RelayConfig,
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    county: String,
    event_id: Uuid,
    routing_key: String,
    subject: String,
    payload: Vec<u8>,
    trace_headers: serde_json::Value,
    created_at: DateTime<Utc>,
}

impl OutboxRelay {
    /// A relay for `config.schema`'s outbox.
    pub fn new(pool: PgPool, amqp_url: &str, config: RelayConfig) -> Self {
        Self {
            pool,
            amqp_url: amqp_url.to_owned(),
            config,
        }
    }

    /// Runs until `shutdown` is cancelled. Beside publishing, it refreshes
    /// the backlog gauges every poll interval, also while the broker is
    /// away (when the oldest unsent event's age matters most).
    pub async fn run(self, shutdown: CancellationToken) {
        let what = format!("outbox relay of {}", self.config.schema);
        let relay = bus::reconnecting(&what, &shutdown, |connected| {
            self.session(&shutdown, connected)
        });
        let gauges = async {
            let mut tick = tokio::time::interval(self.config.poll_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.refresh_gauges().await {
                    tracing::debug!(schema = %self.config.schema, error = %e,
                        "cannot read the outbox backlog");
                }
            }
        };
        tokio::select! {
            () = relay => {}
            () = gauges => {}
        }
        tracing::info!(schema = %self.config.schema, "outbox relay stopped");
    }

    /// One connection's lifetime: returns Ok on shutdown, Err to reconnect.
    async fn session(
        &self,
        shutdown: &CancellationToken,
        connected: bus::Connected,
    ) -> anyhow::Result<()> {
        let conn = bus::connect(&self.amqp_url, &format!("{}-outbox", self.config.schema)).await?;
        let ch = bus::confirm_channel(&conn).await?;
        bus::topology::declare_exchanges(&ch).await?;
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener
            .listen(&format!("{}_outbox", self.config.schema))
            .await?;
        tracing::info!(schema = %self.config.schema, "outbox relay connected");
        connected.mark();
        let mut recent = RecentIds::default();
        loop {
            let sent = self.publish_batch(&ch).await?;
            let full = sent.len() as i64 >= self.config.batch_size;
            recent.extend(sent);
            if full {
                continue;
            }
            // Wait for a notification naming an event not published yet (or
            // naming none, as the trigger's do), or for the poll. A writer
            // that wakes the relay after its commit (`wake`) is often seen
            // by a batch before its notification arrives; without this,
            // that notification would start a batch finding nothing, about
            // one per event under load.
            let poll = tokio::time::sleep(self.config.poll_interval);
            tokio::pin!(poll);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => {
                        let _ = conn.close(200, "shutdown".into()).await;
                        return Ok(());
                    }
                    n = listener.recv() => {
                        let n = n.context("listening for outbox notifications")?;
                        // One batch serves every notification received so far.
                        let mut news = !recent.covers(n.payload());
                        while let Some(n) = listener.next_buffered() {
                            news |= !recent.covers(n.payload());
                        }
                        if news {
                            break;
                        }
                    }
                    () = &mut poll => break,
                }
            }
            if !conn.status().connected() {
                anyhow::bail!("RabbitMQ connection lost");
            }
        }
    }

    /// Sets the backlog gauges of this schema: how many rows wait and the
    /// age of the oldest (0 when none), on the database's clock. Every
    /// replica's relay does this, also the ones another replica's lock keeps
    /// idle, so no replica reports a stale backlog.
    pub async fn refresh_gauges(&self) -> sqlx::Result<()> {
        let (backlog, oldest): (i64, Option<f64>) = sqlx::query_as(
            "SELECT count(*), EXTRACT(EPOCH FROM now() - min(created_at))::float8
             FROM outbox WHERE published_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        let service = self.config.schema.as_str();
        metrics::OUTBOX_BACKLOG
            .with_label_values(&[service])
            .set(backlog);
        metrics::OUTBOX_OLDEST_UNSENT
            .with_label_values(&[service])
            .set(oldest.unwrap_or(0.0).max(0.0));
        Ok(())
    }

    /// Publishes one batch of pending rows and marks the confirmed ones sent.
    /// Returns how many were published (0 when another relay holds the lock).
    pub async fn publish_pending(&self, ch: &Channel) -> anyhow::Result<usize> {
        self.publish_batch(ch).await.map(|sent| sent.len())
    }

    /// [`Self::publish_pending`], returning the ids of the events marked sent.
    async fn publish_batch(&self, ch: &Channel) -> anyhow::Result<Vec<Uuid>> {
        let mut tx = self.pool.begin().await?;
        let lock_key = format!("zoufang.outbox.{}", self.config.schema);
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext($1))")
            .bind(&lock_key)
            .fetch_one(&mut *tx)
            .await?;
        if !locked {
            return Ok(vec![]);
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, county, event_id, routing_key, subject, payload, trace_headers, created_at
             FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1",
        )
        .bind(self.config.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(vec![]);
        }

        // A broker under flow control blocks publishes and withholds confirms
        // without erroring; bound the whole batch, so the relay gives up its
        // transaction and lock, reconnects and tries again, instead of
        // waiting (and holding a pooled connection) forever.
        let deadline = tokio::time::Instant::now() + PUBLISH_TIMEOUT;
        let timed_out = || {
            anyhow::anyhow!(
                "the broker did not take or confirm the batch within {PUBLISH_TIMEOUT:?} (flow control?)"
            )
        };
        let mut confirms = Vec::with_capacity(rows.len());
        for row in &rows {
            let envelope = Envelope {
                id: row.event_id,
                source: self.config.source.clone(),
                routing_key: row.routing_key.clone(),
                subject: row.subject.clone(),
                time: row.created_at,
                county: row.county.clone(),
                trace: serde_json::from_value::<HashMap<String, String>>(row.trace_headers.clone())
                    .unwrap_or_default(),
                attempt: 0,
            };
            let publish = ch.basic_publish(
                EVENTS_EXCHANGE.into(),
                row.routing_key.clone().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                &row.payload,
                envelope.to_properties(),
            );
            let confirm = tokio::time::timeout_at(deadline, publish)
                .await
                .map_err(|_| timed_out())??;
            confirms.push(confirm);
        }

        // Mark the longest prefix the broker confirmed; stop at the first nack
        // so the rest is published again, in order.
        let mut confirms = confirms.into_iter();
        let mut returned = Returned::default();
        let mut confirmed = 0;
        let mut failure = None;
        for (row, confirm) in rows.iter().zip(confirms.by_ref()) {
            let Ok(confirm) = tokio::time::timeout_at(deadline, confirm).await else {
                failure = Some(timed_out());
                break;
            };
            match confirm {
                Ok(c) => {
                    let acked = c.is_ack();
                    returned.note(c);
                    if !acked {
                        failure = Some(anyhow::anyhow!("broker nacked event {}", row.event_id));
                        break;
                    }
                    confirmed += 1;
                }
                Err(e) => {
                    failure =
                        Some(anyhow::Error::new(e).context("waiting for a publisher confirm"));
                    break;
                }
            }
        }
        // A return of a confirmed event may ride on a later confirm.
        for confirm in confirms {
            if let Some(Ok(c)) = confirm.now_or_never() {
                returned.note(c);
            }
        }
        let confirmed = &rows[..confirmed];
        let sent: Vec<i64> = confirmed.iter().map(|r| r.seq).collect();
        let sent_ids: Vec<Uuid> = confirmed.iter().map(|r| r.event_id).collect();
        let mut unroutable = Vec::new();
        for row in confirmed.iter().filter(|r| returned.has(r.event_id)) {
            // An event nobody follows is dropped by design: not a warning.
            tracing::debug!(routing_key = %row.routing_key, event_id = %row.event_id,
                "no queue follows this event; the broker dropped it");
            unroutable.push(row.seq);
        }
        sqlx::query(
            // `published_at IS NULL` lets the planner find the rows through
            // the partial index `outbox_pending` (seq is only the second
            // column of the key): without it every batch scanned the whole
            // outbox, a cost that grew with every event ever published.
            "UPDATE outbox SET published_at = now(), unroutable = (seq = ANY($2))
             WHERE published_at IS NULL AND seq = ANY($1)",
        )
        .bind(&sent)
        .bind(&unroutable)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let schema = self.config.schema.as_str();
        metrics::OUTBOX_PUBLISHED
            .with_label_values(&[schema, "routed"])
            .inc_by((sent.len() - unroutable.len()) as u64);
        metrics::OUTBOX_PUBLISHED
            .with_label_values(&[schema, "unroutable"])
            .inc_by(unroutable.len() as u64);
        match failure {
            Some(e) => Err(e),
            None => Ok(sent_ids),
        }
    }
}

/// The events the broker returned as unroutable, by event id. lapin hands
/// each return to whichever publisher confirm completes next, not to the
/// confirm of the returned message: the broker sends the return ahead of
/// that message's ack, but a `multiple` ack completes several confirms in
/// no set order, and an ack of an earlier message may come in between. So a
/// return says which event it is by its message id (the `ce-id` header
/// when the property is missing), never by the confirm it came with.
#[derive(Debug, Default)]
struct Returned(HashSet<Uuid>);

impl Returned {
    /// Takes the return a confirmation carries, if any.
    fn note(&mut self, confirmation: Confirmation) {
        let Some(message) = confirmation.take_message() else {
            return;
        };
        match Envelope::from_properties(&message.properties, message.routing_key.as_str()) {
            Ok(envelope) => {
                self.0.insert(envelope.id);
            }
            Err(e) => tracing::debug!(routing_key = %message.routing_key, error = %e,
                "the broker returned a message that is no event of ours"),
        }
    }

    /// True when the broker returned the event `id`.
    fn has(&self, id: Uuid) -> bool {
        self.0.contains(&id)
    }
}

/// How many published event ids a relay remembers (see [`RecentIds`]).
const RECENT_IDS: usize = 4096;

/// The ids of the events a relay published lately, oldest dropped first, so
/// a notification naming only those starts no batch.
#[derive(Debug, Default)]
struct RecentIds {
    order: VecDeque<Uuid>,
    set: HashSet<Uuid>,
}

impl RecentIds {
    fn extend(&mut self, ids: Vec<Uuid>) {
        for id in ids {
            if self.set.insert(id) {
                self.order.push_back(id);
            }
        }
        while self.order.len() > RECENT_IDS {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
    }

    /// True when a notification's payload names events and every one of
    /// them was published. An empty or unreadable payload is news.
    fn covers(&self, payload: &str) -> bool {
        !payload.is_empty()
            && payload
                .split(',')
                .all(|id| Uuid::parse_str(id).is_ok_and(|id| self.set.contains(&id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauges(service: &str) -> (i64, f64) {
        (
            metrics::OUTBOX_BACKLOG.with_label_values(&[service]).get(),
            metrics::OUTBOX_OLDEST_UNSENT
                .with_label_values(&[service])
                .get(),
        )
    }

    #[test]
    fn a_notification_naming_only_published_events_is_no_news() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut recent = RecentIds::default();
        recent.extend(vec![a]);
        assert!(recent.covers(&a.to_string()));
        assert!(!recent.covers(&format!("{a},{b}")), "b is not published");
        assert!(!recent.covers(""), "the trigger names nothing: look");
        assert!(!recent.covers("not-an-id"));
        for _ in 0..RECENT_IDS {
            recent.extend(vec![Uuid::now_v7()]);
        }
        assert!(!recent.covers(&a.to_string()), "forgotten, so looked for");
        assert_eq!(recent.order.len(), RECENT_IDS);
        assert_eq!(recent.set.len(), RECENT_IDS);
    }

    /// A confirmation carrying the broker's return of the event `id`.
    fn carrying_return_of(id: Uuid, routing_key: &str) -> Confirmation {
        let envelope = Envelope {
            id,
            source: "/zoufang/test".into(),
            routing_key: routing_key.into(),
            subject: "things/1".into(),
            time: Utc::now(),
            county: "430426".into(),
            trace: HashMap::new(),
            attempt: 0,
        };
        let mut delivery = lapin::message::Delivery::mock(
            0,
            EVENTS_EXCHANGE.into(),
            routing_key.into(),
            false,
            vec![],
        );
        delivery.properties = envelope.to_properties();
        Confirmation::Ack(Some(lapin::message::BasicReturnMessage {
            delivery,
            reply_code: 312,
            reply_text: "NO_ROUTE".into(),
        }))
    }

    /// The case seen in production: `resolved` (followed by three services)
    /// and then `escalated` (followed by none) published; lapin hands the
    /// return of `escalated` to the confirm of `resolved`. Only `escalated`
    /// is unroutable.
    #[test]
    fn a_return_is_matched_to_its_event_by_id_not_by_the_confirm_it_rides_on() {
        let (resolved, escalated) = (Uuid::now_v7(), Uuid::now_v7());
        let mut returned = Returned::default();
        returned.note(carrying_return_of(
            escalated,
            zoufang_proto::catalogue::issues::ESCALATED,
        ));
        returned.note(Confirmation::Ack(None));
        assert!(returned.has(escalated));
        assert!(!returned.has(resolved));

        // A return that is no event of ours marks nothing.
        let mut delivery =
            lapin::message::Delivery::mock(0, "".into(), "elsewhere".into(), false, vec![]);
        delivery.properties = lapin::BasicProperties::default();
        returned.note(Confirmation::Ack(Some(
            lapin::message::BasicReturnMessage {
                delivery,
                reply_code: 312,
                reply_text: "NO_ROUTE".into(),
            },
        )));
        assert_eq!(returned.0.len(), 1);
    }

    /// Needs PostgreSQL and the broker. Many events, every other one
    /// followed by a queue: each is marked unroutable exactly when nobody
    /// follows its key, however the broker batches its acks.
    #[tokio::test]
    async fn exactly_the_events_nobody_follows_are_marked_unroutable() {
        let amqp = std::env::var("AMQP_URL")
            .unwrap_or_else(|_| zoufang_core::config::DEFAULT_AMQP_URL.to_owned());
        let db = crate::scratch::ScratchDb::new();
        let schema = "outbox_returns";
        let pool = db.pool(schema, 2).await;
        let name = db.name.clone();
        let followed = format!("test.{name}.followed");
        let ignored = format!("test.{name}.ignored");
        let topology = bus::topology::ConsumerTopology {
            service: name.clone(),
            bindings: vec![followed.clone()],
            retry_delays: vec![],
        };
        let conn = bus::connect(&amqp, "outbox-returns-test").await.unwrap();
        let ch = bus::confirm_channel(&conn).await.unwrap();
        bus::topology::declare_exchanges(&ch).await.unwrap();
        bus::topology::declare_consumer(&ch, &topology)
            .await
            .unwrap();

        // Leaked: NewEvent takes a static key, as the catalogue's are.
        let followed: &'static str = followed.leak();
        let ignored: &'static str = ignored.leak();
        let mut tx = pool.begin().await.unwrap();
        for n in 0..200 {
            let event = NewEvent {
                routing_key: if n % 2 == 0 { followed } else { ignored },
                region_code: "430426104201".into(),
                subject: format!("things/{n}"),
                payload: vec![],
            };
            enqueue(&mut tx, event).await.unwrap();
        }
        tx.commit().await.unwrap();
        let relay = OutboxRelay::new(pool.clone(), &amqp, RelayConfig::for_service(schema));
        assert_eq!(relay.publish_pending(&ch).await.unwrap(), 200);

        let marked: Vec<(String, bool)> =
            sqlx::query_as("SELECT routing_key, unroutable FROM outbox ORDER BY seq")
                .fetch_all(&pool)
                .await
                .unwrap();
        let wrong: Vec<_> = marked
            .iter()
            .enumerate()
            .filter(|(_, (key, unroutable))| *unroutable != (key == ignored))
            .collect();

        for q in [topology.queue(), topology.parking_queue()] {
            ch.queue_delete(q.into(), lapin::options::QueueDeleteOptions::default())
                .await
                .unwrap();
        }
        let _ = conn.close(200, "done".into()).await;
        pool.close().await;
        db.drop_now().await;
        assert!(wrong.is_empty(), "misjudged: {wrong:?}");
    }

    #[tokio::test]
    async fn gauges_show_the_backlog_and_the_age_of_the_oldest_unsent_event() {
        let db = crate::scratch::ScratchDb::new();
        let schema = "outbox_gauges";
        let pool = db.pool(schema, 2).await;
        // Never connects: refresh_gauges only reads the table.
        let relay = OutboxRelay::new(
            pool.clone(),
            "amqp://unused",
            RelayConfig::for_service(schema),
        );

        relay.refresh_gauges().await.unwrap();
        assert_eq!(gauges(schema), (0, 0.0));

        let mut conn = pool.acquire().await.unwrap();
        for n in 0..3 {
            let event = NewEvent {
                routing_key: "test.thing.happened",
                region_code: "430426104201".into(),
                subject: format!("things/{n}"),
                payload: vec![],
            };
            enqueue(&mut conn, event).await.unwrap();
        }
        // things/0 is old but sent; things/1 waits for 90 s; things/2 is new.
        sqlx::query(
            "UPDATE outbox SET created_at = now() - interval '120 seconds', published_at = now()
             WHERE subject = 'things/0'",
        )
        .execute(&mut *conn)
        .await
        .unwrap();
        sqlx::query(
            "UPDATE outbox SET created_at = now() - interval '90 seconds'
             WHERE subject = 'things/1'",
        )
        .execute(&mut *conn)
        .await
        .unwrap();
        relay.refresh_gauges().await.unwrap();
        let (backlog, oldest) = gauges(schema);
        assert_eq!(backlog, 2);
        assert!((90.0..100.0).contains(&oldest), "oldest unsent {oldest} s");
        assert!(metrics::render().contains(&format!(
            "zf_outbox_oldest_unsent_seconds{{service=\"{schema}\"}}"
        )));

        sqlx::query("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")
            .execute(&mut *conn)
            .await
            .unwrap();
        relay.refresh_gauges().await.unwrap();
        assert_eq!(gauges(schema), (0, 0.0));

        drop(conn);
        pool.close().await;
        db.drop_now().await;
    }

    /// An event written with `OutboxRow::push_cte` wakes no relay from
    /// inside its statement (no NOTIFY, so no commit lock); `wake` does,
    /// naming it; and the setting ends with the statement, so a plain
    /// `enqueue` on the same connection still notifies through the trigger.
    #[tokio::test]
    async fn a_deferred_wake_notifies_only_when_woken() {
        let db = crate::scratch::ScratchDb::new();
        let schema = "outbox_wake";
        let pool = db.pool(schema, 2).await;
        let mut listener = PgListener::connect_with(&pool).await.unwrap();
        listener.listen(&format!("{schema}_outbox")).await.unwrap();
        let event = |n: u32| NewEvent {
            routing_key: "test.thing.happened",
            region_code: "430426104201".into(),
            subject: format!("things/{n}"),
            payload: vec![],
        };
        let mut conn = pool.acquire().await.unwrap();
        let row = event(1).into_row();
        let id = row.event_id;
        // The gate binds a parameter of its own, so the event's come after it.
        let mut query = sqlx::QueryBuilder::new("WITH gate AS (SELECT 1 WHERE ");
        query.push_bind(7_i32).push("::int = 7), ");
        row.push_cte(&mut query, "event", "gate");
        query.push(" SELECT 1");
        query.build().execute(&mut *conn).await.unwrap();
        let written: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE event_id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(written, 1, "the statement wrote the event");
        assert!(
            tokio::time::timeout(Duration::from_millis(500), listener.recv())
                .await
                .is_err(),
            "no NOTIFY from the statement"
        );

        wake(&mut *conn, &[id]).await.unwrap();
        let woken = tokio::time::timeout(Duration::from_secs(5), listener.recv())
            .await
            .expect("woken")
            .unwrap();
        assert_eq!(woken.payload(), id.to_string());

        enqueue(&mut conn, event(2)).await.unwrap();
        let notified = tokio::time::timeout(Duration::from_secs(5), listener.recv())
            .await
            .expect("the trigger still notifies a plain enqueue")
            .unwrap();
        assert_eq!(notified.payload(), "");

        drop(conn);
        drop(listener);
        pool.close().await;
        db.drop_now().await;
    }
}
