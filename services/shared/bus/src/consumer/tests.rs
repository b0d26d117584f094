//! The consumer against the real broker and database.
use lapin::{BasicProperties, options::QueueDeleteOptions};

use super::*;

#[test]
fn a_database_that_is_away_ends_the_session_instead_of_retrying() {
    let away = |e: sqlx::Error| HandlerError::from(e);
    assert!(matches!(
        away(sqlx::Error::PoolTimedOut),
        HandlerError::Infrastructure(_)
    ));
    assert!(matches!(
        away(sqlx::Error::RowNotFound),
        HandlerError::Retry(_)
    ));
    // A handler's own Retry, with the store's error somewhere in its chain.
    let wrapped = HandlerError::Retry(
        anyhow::Error::new(sqlx::Error::PoolTimedOut).context("recording the ledger entry"),
    );
    assert!(matches!(
        wrapped.unless_unavailable(),
        HandlerError::Infrastructure(_)
    ));
    let not_yet = HandlerError::Retry(anyhow::anyhow!("issue 1 is not in the ledger yet"));
    assert!(matches!(
        not_yet.unless_unavailable(),
        HandlerError::Retry(_)
    ));
    let park = HandlerError::Park(anyhow::Error::new(sqlx::Error::PoolTimedOut));
    assert!(matches!(park.unless_unavailable(), HandlerError::Park(_)));
}

fn incoming(key: &str, payload: &impl prost::Message) -> IncomingEvent {
    IncomingEvent {
        envelope: Envelope {
            id: uuid::Uuid::now_v7(),
            source: "/zoufang/test".into(),
            routing_key: key.into(),
            subject: "things/1".into(),
            time: chrono::Utc::now(),
            county: "430426".into(),
            trace: Default::default(),
            attempt: 0,
        },
        payload: payload.encode_to_vec(),
    }
}

#[test]
fn a_handler_decodes_by_payload_type_and_the_key_must_agree() {
    use zoufang_proto::{
        catalogue::issues,
        events::v1::{IssueChange, IssueChanged, VisitRecorded},
    };
    let resolved = IssueChanged {
        issue_id: "i".into(),
        change: IssueChange::Resolved.into(),
        ..Default::default()
    };
    let event = incoming(issues::RESOLVED, &resolved);
    assert!(event.is::<IssueChanged>() && !event.is::<VisitRecorded>());
    assert_eq!(event.decode_if::<VisitRecorded>().unwrap(), None);
    assert_eq!(
        event.decode_if::<IssueChanged>().unwrap(),
        Some(resolved.clone())
    );

    // The payload's change names another key than it came under: parked.
    let lying = incoming(issues::EXPLAINED, &resolved);
    let err = lying.decode_if::<IssueChanged>().unwrap_err();
    assert!(matches!(err, HandlerError::Park(_)), "{err}");
    assert!(err.to_string().contains(issues::RESOLVED), "{err}");

    // An unknown change is the handler's to refuse (known_enum parks it).
    let newer = IssueChanged {
        change: 99,
        ..Default::default()
    };
    let decoded = incoming(issues::RESOLVED, &newer)
        .decode_if::<IssueChanged>()
        .unwrap()
        .unwrap();
    assert!(known_change::<IssueChange>(decoded.change).is_err());
    assert_eq!(
        known_change::<IssueChange>(0),
        Err(Poison("change is unspecified".into()))
    );
    assert_eq!(
        known_change::<IssueChange>(IssueChange::Overdue.into()),
        Ok(IssueChange::Overdue)
    );

    // A payload that does not decode is parked.
    let mut garbage = incoming(issues::RESOLVED, &resolved);
    garbage.payload = vec![0xff, 0xff, 0xff];
    assert!(matches!(
        garbage.decode_if::<IssueChanged>(),
        Err(HandlerError::Park(_))
    ));
}

#[test]
fn inputs_bind_the_keys_of_their_payload_types() {
    use zoufang_proto::{
        catalogue::{issues, petition, registry},
        events::v1::{IssueChanged, PetitionCaseChanged, VisitRecorded},
    };
    let inputs = Inputs::new()
        .all::<VisitRecorded>()
        .only::<IssueChanged>(&[issues::RESOLVED, issues::OVERDUE])
        .only::<IssueChanged>(&[issues::RESOLVED]);
    assert_eq!(
        inputs.keys(),
        [registry::VISIT_RECORDED, issues::RESOLVED, issues::OVERDUE]
    );
    assert_eq!(
        Inputs::new().all::<PetitionCaseChanged>().keys(),
        [petition::ANY]
    );
    let wrong =
        std::panic::catch_unwind(|| Inputs::new().only::<VisitRecorded>(&[issues::RESOLVED]));
    assert!(wrong.is_err(), "a key of another payload is refused");
}

/// A stand-in for a prost enum: 0 and 1 known.
#[derive(Debug, PartialEq)]
enum Mode {
    Unspecified,
    Door,
}

impl TryFrom<i32> for Mode {
    type Error = ();
    fn try_from(v: i32) -> Result<Self, ()> {
        match v {
            0 => Ok(Self::Unspecified),
            1 => Ok(Self::Door),
            _ => Err(()),
        }
    }
}

#[test]
fn an_unknown_enum_value_is_poison_and_parks() {
    assert_eq!(known_enum::<Mode>("mode", 1), Ok(Mode::Door));
    assert_eq!(known_enum::<Mode>("mode", 0), Ok(Mode::Unspecified));
    let poison = known_enum::<Mode>("items[2].mode", 7).unwrap_err();
    assert_eq!(
        poison.to_string(),
        "items[2].mode has the unknown value 7 (a Mode)"
    );
    assert!(matches!(
        HandlerError::from(poison.clone()),
        HandlerError::Park(_)
    ));
    // Wrapped in a handler's anyhow context, it still parks …
    let wrapped = anyhow::Error::new(poison).context("ledger entries from visit 1");
    assert!(matches!(
        HandlerError::retry_or_park(wrapped),
        HandlerError::Park(_)
    ));
    // … while any other failure is retried.
    let other = anyhow::anyhow!("issue 1 is not in the ledger yet");
    assert!(matches!(
        HandlerError::retry_or_park(other),
        HandlerError::Retry(_)
    ));
}

/// Never called: nothing is published to the main queue.
struct Untouched;

impl EventHandler for Untouched {
    async fn handle(&self, _: &mut PgConnection, _: &IncomingEvent) -> Result<(), HandlerError> {
        Err(HandlerError::Park(anyhow::anyhow!("not in this test")))
    }
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Needs the broker at AMQP_URL (default the local one).
#[tokio::test]
async fn the_parking_queue_depth_is_a_gauge_and_survives_a_deleted_queue() {
    let amqp = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| zoufang_core::config::DEFAULT_AMQP_URL.to_owned());
    let service = crate::scratch::unique_name();
    let topology = ConsumerTopology {
        service: service.clone(),
        bindings: vec![],
        retry_delays: vec![Duration::from_secs(1)],
    };
    // The consumer never reaches the database: no event arrives.
    let pool = PgPool::connect_lazy("postgres://postgres@127.0.0.1:5432/unused").unwrap();
    let consumer = Consumer::new(pool, &amqp, topology.clone(), Untouched)
        .with_parked_poll(Duration::from_millis(50));
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consumer.run(shutdown.clone()));

    let conn = bus::connect(&amqp, "parked-gauge-test").await.unwrap();
    let ch = bus::confirm_channel(&conn).await.unwrap();
    declare_consumer(&ch, &topology).await.unwrap();
    for _ in 0..3 {
        publish_confirmed(
            &ch,
            PARKING_EXCHANGE,
            &service,
            b"parked",
            BasicProperties::default(),
        )
        .await
        .unwrap();
    }
    let gauge = metrics::CONSUMER_PARKED.with_label_values(&[&topology.queue()]);
    until("3 parked", || gauge.get() == 3).await;
    assert!(metrics::render().contains(&format!(
        "zf_consumer_parked_messages{{queue=\"{}\"}} 3",
        topology.queue()
    )));

    // An operator deletes the parking queue: the watcher's channel is
    // closed by the broker, the consumer goes on, and once the queue is
    // back the gauge follows it again.
    ch.queue_delete(
        topology.parking_queue().into(),
        QueueDeleteOptions::default(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    declare_consumer(&ch, &topology).await.unwrap();
    until("0 parked after the queue came back", || gauge.get() == 0).await;
    assert!(!task.is_finished());

    shutdown.cancel();
    task.await.unwrap();
    delete_queues(&ch, &topology).await;
    let _ = conn.close(200, "done".into()).await;
}

/// Applies each event by writing its id to `applied`; fails the first
/// attempt at `flaky` (a retry), and parks a payload of `b"poison"`.
struct Recorder {
    flaky: uuid::Uuid,
    failed_once: std::sync::atomic::AtomicBool,
}

impl EventHandler for Recorder {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        if event.payload == b"poison" {
            return Err(HandlerError::Park(anyhow::anyhow!("poison")));
        }
        if event.envelope.id == self.flaky
            && !self
                .failed_once
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(HandlerError::Retry(anyhow::anyhow!("not yet")));
        }
        sqlx::query("INSERT INTO applied (event_id, subject) VALUES ($1, $2)")
            .bind(event.envelope.id)
            .bind(&event.envelope.subject)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

/// Needs PostgreSQL and the broker. Events already queued when the
/// consumer starts reach a lane together and are applied in batches;
/// a failing handler (a retry, a poison payload) costs its batch only a
/// second pass one by one; a duplicate in the same batch is applied
/// once; and every event ends applied exactly once, in order per lane.
#[tokio::test]
async fn queued_events_apply_in_batches_exactly_once() {
    let amqp = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| zoufang_core::config::DEFAULT_AMQP_URL.to_owned());
    let db = crate::scratch::ScratchDb::new();
    let name = db.name.clone();
    let pool = db.pool("consumer_batch", 4).await;
    sqlx::query(
        "CREATE TABLE applied (event_id uuid NOT NULL, subject text NOT NULL, n bigserial,
                          tx bigint NOT NULL DEFAULT txid_current())",
    )
    .execute(&pool)
    .await
    .unwrap();
    let topology = ConsumerTopology {
        service: name.clone(),
        bindings: vec![],
        retry_delays: vec![Duration::from_millis(200)],
    };
    let conn = bus::connect(&amqp, "consumer-batch-test").await.unwrap();
    let ch = bus::confirm_channel(&conn).await.unwrap();
    declare_consumer(&ch, &topology).await.unwrap();

    // 60 events over 3 subjects, all queued before the consumer starts;
    // the 10th is published twice, the 30th fails once, and a poison
    // payload sits in the middle.
    let envelope = |n: usize| Envelope {
        id: uuid::Uuid::now_v7(),
        source: "/zoufang/test".into(),
        routing_key: "test.thing.happened".into(),
        subject: format!("things/{}", n % 3),
        time: chrono::Utc::now(),
        county: "430426".into(),
        trace: Default::default(),
        attempt: 0,
    };
    let events: Vec<Envelope> = (0..60).map(envelope).collect();
    let queue = topology.queue();
    let publish = |e: &Envelope, body: &'static [u8]| {
        publish_confirmed(&ch, "", &queue, body, e.to_properties())
    };
    for (n, e) in events.iter().enumerate() {
        publish(e, b"ok").await.unwrap();
        if n == 10 {
            publish(e, b"ok").await.unwrap();
        }
        if n == 40 {
            publish(&envelope(1), b"poison").await.unwrap();
        }
    }
    let consumer = Consumer::new(
        pool.clone(),
        &amqp,
        topology.clone(),
        Recorder {
            flaky: events[30].id,
            failed_once: Default::default(),
        },
    )
    .with_lanes(2, Ordering::Subject)
    .with_batch(16);
    let applied_before = metrics::CONSUMED
        .with_label_values(&[&topology.queue(), "applied"])
        .get();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consumer.run(shutdown.clone()));

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let applied = loop {
        let rows: Vec<(uuid::Uuid, String)> =
            sqlx::query_as("SELECT event_id, subject FROM applied ORDER BY n")
                .fetch_all(&pool)
                .await
                .unwrap();
        if rows.len() >= 60 {
            break rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} applied",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Anything late (a double) would show up meanwhile.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM applied")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(total, 60, "each event applied once");
    // How many events share a transaction depends on how fast deliveries
    // arrive against how fast a lane commits (and a failing batch is
    // replayed one by one), so the test asks only that batching happened:
    // some transaction applied several events, and fewer transactions ran
    // than events.
    let (transactions, largest): (i64, i64) = sqlx::query_as(
        "SELECT count(*), max(n) FROM (SELECT count(*) AS n FROM applied GROUP BY tx) t",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        largest >= 2 && transactions < 60,
        "60 queued events took {transactions} transactions, the largest of {largest}: not batched"
    );
    let ids: std::collections::BTreeSet<uuid::Uuid> = applied.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, events.iter().map(|e| e.id).collect());
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(inbox, 60);
    // In order per subject, except the one that failed and came back
    // through the retry queue (subject order is what lanes keep; a
    // retried event may be overtaken, as with batches of one).
    for subject in 0..3 {
        let subject = format!("things/{subject}");
        let published: Vec<uuid::Uuid> = events
            .iter()
            .filter(|e| e.subject == subject && e.id != events[30].id)
            .map(|e| e.id)
            .collect();
        let seen: Vec<uuid::Uuid> = applied
            .iter()
            .filter(|(id, s)| *s == subject && *id != events[30].id)
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(seen, published, "order of {subject}");
    }
    until("the poison payload parked", || {
        metrics::CONSUMED
            .with_label_values(&[&topology.queue(), "parked"])
            .get()
            == 1
    })
    .await;
    assert_eq!(
        metrics::CONSUMED
            .with_label_values(&[&topology.queue(), "applied"])
            .get()
            - applied_before,
        60
    );
    assert_eq!(
        metrics::CONSUMED
            .with_label_values(&[&topology.queue(), "duplicate"])
            .get(),
        1
    );

    shutdown.cancel();
    task.await.unwrap();
    delete_queues(&ch, &topology).await;
    let _ = conn.close(200, "done".into()).await;
    pool.close().await;
    db.drop_now().await;
}

/// Deletes a test consumer's queues: main, parking and every retry queue.
async fn delete_queues(ch: &Channel, topology: &ConsumerTopology) {
    let retries = topology
        .retry_delays
        .iter()
        .map(|d| topology.retry_queue(*d));
    for q in [topology.queue(), topology.parking_queue()]
        .into_iter()
        .chain(retries)
    {
        ch.queue_delete(q.into(), QueueDeleteOptions::default())
            .await
            .unwrap();
    }
}
