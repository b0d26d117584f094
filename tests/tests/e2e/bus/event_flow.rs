//! Events leave the registry through the outbox and are applied exactly once
//! by an inbox consumer — also when the relay dies between publishing and
//! marking the row sent, so the event is published twice.
use std::time::Duration;

use prost::Message;
use tokio_util::sync::CancellationToken;
use zoufang_bus::relay::{OutboxRelay, RelayConfig};
use zoufang_e2e::{
    TestRegistry, consumer::TestConsumer, eventually, fixtures, quiet, tap::Tap, unique_name,
};
use zoufang_proto::catalogue;
use zoufang_proto::events::v1::VisitRecorded;

const ADMIN: &[&str] = &["county_admin"];

#[tokio::test]
async fn recorded_visit_reaches_a_bound_queue_as_a_cloudevent() {
    let mut tap = Tap::bind(catalogue::registry::VISIT_RECORDED).await;
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await;
    let req = fixtures::visit_request(&seed, &seed.household_ids[0]);
    let visit_id = req.visit_id.clone();
    admin.record_visit(req).await.expect("record visit");

    let seen = tap
        .collect(1, Duration::from_secs(10), |s| {
            VisitRecorded::decode(s.payload.as_slice()).is_ok_and(|v| v.visit_id == visit_id)
        })
        .await;
    assert_eq!(seen.len(), 1, "the visit's event reached the queue");
    let env = &seen[0].envelope;
    assert_eq!(env.ce_type(), "zoufang.registry.visit.recorded");
    assert_eq!(env.source, "/zoufang/registry");
    assert_eq!(env.subject, format!("visits/{visit_id}"));
    assert_eq!(env.county, fixtures::COUNTY);
    let event = VisitRecorded::decode(seen[0].payload.as_slice()).expect("payload");
    assert_eq!(
        event.items.len(),
        2,
        "the items raised travel with the event"
    );
    assert_eq!(event.items[1].households_involved, 2);
    assert!(event.key_household);
    assert_eq!(
        event.household_tags,
        vec!["留守"],
        "sensitive tags never leave the registry"
    );
    registry.stop().await;
}

#[tokio::test]
async fn inbox_applies_once_when_the_relay_dies_between_publish_and_mark() {
    // A registry whose own relay cannot reach the broker: the event waits in the outbox.
    let database = unique_name("zft");
    let registry = {
        let mut config = zoufang_e2e::registry_config(&database);
        config.common.amqp_url = "amqp://guest:guest@127.0.0.1:1/%2f".into();
        start_with(config, &database).await
    };
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await;
    let req = fixtures::visit_request(&seed, &seed.household_ids[0]);
    let visit_id = req.visit_id.clone();
    admin.record_visit(req).await.expect("record visit");

    let mut tap = Tap::bind(catalogue::registry::VISIT_RECORDED).await;
    let (consumer, runner) = TestConsumer::new(&database).await;
    let consumer_stop = CancellationToken::new();
    let consumer_task = tokio::spawn(runner.run(consumer_stop.clone()));

    // Block the relay's "mark sent" step: SHARE mode lets it read, not update.
    let mut lock = registry.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE outbox IN SHARE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let relay = OutboxRelay::new(
        registry.pool.clone(),
        &zoufang_e2e::amqp_url(),
        RelayConfig::for_service("registry"),
    );
    let relay_task = tokio::spawn(relay.clone().run(CancellationToken::new()));

    let is_ours = |s: &zoufang_e2e::tap::Seen| {
        VisitRecorded::decode(s.payload.as_slice()).is_ok_and(|v| v.visit_id == visit_id)
    };
    let first = tap.collect(1, Duration::from_secs(10), is_ours).await;
    assert_eq!(first.len(), 1, "published once before the relay died");
    assert!(
        eventually(Duration::from_secs(10), || async {
            (consumer.applied(&visit_id).await == 1).then_some(())
        })
        .await
        .is_some(),
        "the consumer applied the event"
    );

    // Kill the relay while it waits to mark the row, then let the table go.
    relay_task.abort();
    let _ = relay_task.await;
    lock.rollback().await.unwrap();
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE routing_key = 'registry.visit.recorded' AND published_at IS NULL")
        .fetch_one(&registry.pool)
        .await
        .unwrap();
    assert_eq!(pending, 1, "the row was never marked sent");

    // A new relay publishes it again; the consumer's inbox swallows the copy.
    let relay_stop = CancellationToken::new();
    let relay_task = tokio::spawn(relay.run(relay_stop.clone()));
    let second = tap.collect(1, Duration::from_secs(10), is_ours).await;
    assert_eq!(second.len(), 1, "published again after the crash");
    assert_eq!(
        second[0].envelope.id, first[0].envelope.id,
        "same event id both times"
    );
    let marked = eventually(Duration::from_secs(10), || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&registry.pool)
            .await
            .unwrap();
        (n == 0).then_some(())
    })
    .await;
    assert!(marked.is_some(), "the second relay marked the row sent");
    // The copy is in the consumer's queue; once a marker behind it in its
    // lane is applied and the queues are empty, the consumer is done with it.
    quiet::caught_up(
        &quiet::Consumer::test_consumer(&consumer),
        &quiet::Lane::of(&second[0].envelope),
    )
    .await;
    assert_eq!(consumer.applied(&visit_id).await, 1, "applied exactly once");
    let in_inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE event_id = $1")
        .bind(first[0].envelope.id)
        .fetch_one(&consumer.pool)
        .await
        .unwrap();
    assert_eq!(in_inbox, 1);

    relay_stop.cancel();
    consumer_stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), consumer_task).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), relay_task).await;
    consumer.delete_queues().await;
    registry.stop().await;
}

async fn start_with(config: zoufang_registry::config::Config, database: &str) -> TestRegistry {
    TestRegistry::start_with(config, database).await
}

#[tokio::test]
async fn the_callers_trace_continues_into_the_published_event() {
    let _telemetry = zoufang_core::telemetry::init("e2e", None).unwrap();
    let mut tap = Tap::bind(catalogue::registry::VISIT_RECORDED).await;
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await;
    let req = fixtures::visit_request(&seed, &seed.household_ids[0]);
    let visit_id = req.visit_id.clone();
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut request = tonic::Request::new(req);
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    admin.record_visit(request).await.expect("record visit");
    let seen = tap
        .collect(1, Duration::from_secs(10), |s| {
            VisitRecorded::decode(s.payload.as_slice()).is_ok_and(|v| v.visit_id == visit_id)
        })
        .await;
    assert_eq!(seen.len(), 1);
    let traceparent = seen[0]
        .envelope
        .trace
        .get("traceparent")
        .cloned()
        .unwrap_or_default();
    assert!(
        traceparent.contains(trace_id),
        "the event carries the caller's trace: {traceparent:?}"
    );
    registry.stop().await;
}
