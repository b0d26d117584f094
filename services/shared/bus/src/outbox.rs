//! The transactional outbox: a service writes its events into its own
//! `outbox` table in the same transaction as the state change ([`enqueue`],
//! [`enqueue_many`], or an [`OutboxRow`] spliced into a statement of its
//! own), and wakes the relays after the commit ([`wake`], [`Waker`]). The
//! relay that publishes them is [`crate::relay`].
use std::sync::{Arc, Mutex, PoisonError};

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use zoufang_core::telemetry;
use zoufang_proto::catalogue::{Event, SingleKey};

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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::postgres::PgListener;

    use super::*;

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
