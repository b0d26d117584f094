//! The harness's event tap: what it drains is exactly what was published
//! up to its marker, and a broken tap fails the test instead of reporting
//! that nothing was published.
use uuid::Uuid;
use zoufang_bus::{EVENTS_EXCHANGE, Envelope};
use zoufang_e2e::{amqp_url, fixtures, tap::Tap};
use zoufang_proto::catalogue;

async fn publish(key: &str, subject: &str) {
    let envelope = Envelope {
        id: Uuid::now_v7(),
        source: "/zoufang/test".into(),
        routing_key: key.into(),
        subject: subject.into(),
        time: chrono::Utc::now(),
        county: fixtures::COUNTY.into(),
        trace: Default::default(),
        attempt: 0,
    };
    let conn = zoufang_bus::connect(&amqp_url(), "test-publish")
        .await
        .expect("amqp");
    let ch = zoufang_bus::confirm_channel(&conn).await.expect("channel");
    ch.basic_publish(
        EVENTS_EXCHANGE.into(),
        key.into(),
        Default::default(),
        b"",
        envelope.to_properties(),
    )
    .await
    .expect("publish")
    .await
    .expect("confirm");
    let _ = conn.close(200, "done".into()).await;
}

/// A routing key no service of the suite binds (the tap's test only).
const KEY: &str = catalogue::registry::VISIT_DISPUTED;

#[tokio::test]
async fn a_drain_returns_everything_published_before_it() {
    let mut tap = Tap::bind(KEY).await;
    let subject = format!("test/{}", Uuid::new_v4());
    for _ in 0..3 {
        publish(KEY, &subject).await;
    }
    let seen = tap.drain(|s| s.envelope.subject == subject).await;
    assert_eq!(seen.len(), 3, "all three, none lost to the marker");
    assert!(
        tap.drain(|_| true).await.is_empty(),
        "and nothing after them"
    );
}

#[tokio::test]
#[should_panic(expected = "the consumer stopped")]
async fn a_tap_whose_queue_is_gone_fails_instead_of_seeing_nothing() {
    let mut tap = Tap::bind(KEY).await;
    // Exclusive: only the tap's own connection may delete it.
    let ch = tap.connection().create_channel().await.expect("channel");
    let queue = tap.queue().to_owned();
    ch.queue_delete(queue.as_str().into(), Default::default())
        .await
        .expect("delete the tap's queue");
    // Before the fix this returned an empty list: "nothing was published".
    let seen = tap
        .collect(1, std::time::Duration::from_secs(2), |_| true)
        .await;
    panic!("the broken tap reported {seen:?} instead of failing");
}
