//! Failing events: retried with back-off, then parked; poison messages are
//! parked at once and block nothing behind them; an operator replays the
//! parking queue once the cause is fixed.
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use lapin::{BasicProperties, options::BasicPublishOptions};
use prost::Message;
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use zoufang_bus::{
    EVENTS_EXCHANGE, Envelope,
    consumer::{Consumer, EventHandler, HandlerError, IncomingEvent},
    parking,
    topology::ConsumerTopology,
};
use zoufang_e2e::{amqp_url, consumer::MIGRATOR, eventually, pg_server, unique_name};
use zoufang_proto::events::v1::VisitRecorded;

/// Fails "flaky" visits twice, "broken" visits until fixed; records the rest.
#[derive(Clone, Default)]
struct Picky {
    attempts: Arc<Mutex<HashMap<String, u32>>>,
    fixed: Arc<AtomicBool>,
}

impl EventHandler for Picky {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        let visit: VisitRecorded = event.decode()?;
        let n = {
            let mut a = self.attempts.lock().unwrap();
            let n = a.entry(visit.visit_id.clone()).or_default();
            *n += 1;
            *n
        };
        if visit.campaign_id == "flaky" && n <= 2 {
            return Err(HandlerError::Retry(anyhow::anyhow!("flaky, attempt {n}")));
        }
        if visit.campaign_id == "broken" && !self.fixed.load(Ordering::SeqCst) {
            return Err(HandlerError::Retry(anyhow::anyhow!("downstream not ready")));
        }
        sqlx::query("INSERT INTO applied (event_id, visit_id) VALUES ($1, $2::uuid)")
            .bind(event.envelope.id)
            .bind(&visit.visit_id)
            .execute(tx)
            .await?;
        Ok(())
    }
}

#[tokio::test]
async fn failures_retry_then_park_and_replay_after_the_fix() {
    let database = unique_name("zft");
    let pool = zoufang_core::db::connect_and_migrate(
        &format!("{}/{database}", pg_server()),
        "picky",
        4,
        &MIGRATOR,
    )
    .await
    .unwrap();
    let service = unique_name("zft");
    let routing_key = format!("{service}.visit.recorded");
    let topology = ConsumerTopology {
        service: service.clone(),
        bindings: vec![routing_key.clone()],
        retry_delays: ConsumerTopology::exponential(Duration::from_millis(100), 3),
    };
    let conn = zoufang_bus::connect(&amqp_url(), "test-publisher")
        .await
        .unwrap();
    let ch = zoufang_bus::confirm_channel(&conn).await.unwrap();
    zoufang_bus::topology::declare_consumer(&ch, &topology)
        .await
        .unwrap();

    let handler = Picky::default();
    let stop = CancellationToken::new();
    let task = tokio::spawn(
        Consumer::new(pool.clone(), &amqp_url(), topology, handler.clone()).run(stop.clone()),
    );

    let publish = |props: BasicProperties, payload: Vec<u8>| {
        let ch = ch.clone();
        let key = routing_key.clone();
        async move {
            ch.basic_publish(
                EVENTS_EXCHANGE.into(),
                key.into(),
                BasicPublishOptions::default(),
                &payload,
                props,
            )
            .await
            .unwrap()
            .await
            .unwrap();
        }
    };
    let event = |campaign: &str| {
        let visit_id = Uuid::new_v4().to_string();
        let env = Envelope {
            id: Uuid::now_v7(),
            source: "/test".into(),
            routing_key: routing_key.clone(),
            subject: format!("visits/{visit_id}"),
            time: chrono::Utc::now(),
            county: "430426".into(),
            trace: Default::default(),
            attempt: 0,
        };
        let payload = VisitRecorded {
            visit_id: visit_id.clone(),
            campaign_id: campaign.into(),
            ..Default::default()
        }
        .encode_to_vec();
        (visit_id, env.to_properties(), payload)
    };

    let (flaky, p, d) = event("flaky");
    publish(p, d).await;
    let (broken, p, d) = event("broken");
    publish(p, d).await;
    // Poison: a payload that is not protobuf, and a message with no id at all.
    let (_, p, _) = event("poison");
    publish(p, vec![0xff, 0xff, 0xff, 0x01]).await;
    publish(BasicProperties::default(), b"who am I".to_vec()).await;
    let (after, p, d) = event("fine");
    publish(p, d).await;

    let applied = |id: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM applied WHERE visit_id = $1::uuid")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let ok = eventually(Duration::from_secs(15), || async {
        (applied(after.clone()).await == 1).then_some(())
    })
    .await;
    assert!(
        ok.is_some(),
        "poison messages did not block the one behind them"
    );
    let ok = eventually(Duration::from_secs(15), || async {
        (applied(flaky.clone()).await == 1).then_some(())
    })
    .await;
    assert!(
        ok.is_some(),
        "the flaky event was applied after its retries"
    );
    assert_eq!(
        handler.attempts.lock().unwrap()[&flaky],
        3,
        "two failures, then success"
    );

    // The broken one exhausts 3 retries (100, 200, 400 ms) and is parked, beside the two poison messages.
    let parked = eventually(Duration::from_secs(20), || async {
        let list = parking::list(&ch, &service, 10).await.unwrap();
        (list.len() == 3).then_some(list)
    })
    .await
    .expect("three parked messages");
    assert_eq!(
        handler.attempts.lock().unwrap()[&broken],
        4,
        "first try plus three retries"
    );
    assert!(parked.iter().any(|m| {
        m.error
            .as_deref()
            .is_some_and(|e| e.contains("downstream not ready"))
    }));
    assert!(parked.iter().any(|m| {
        m.error
            .as_deref()
            .is_some_and(|e| e.contains("does not decode"))
    }));
    assert!(parked.iter().any(|m| m.message_id.is_none()));
    assert_eq!(applied(broken.clone()).await, 0);

    // The operator fixes the cause and replays: the broken event is applied,
    // the poison comes back to parking.
    handler.fixed.store(true, Ordering::SeqCst);
    let moved = parking::replay(&ch, &service, 10).await.unwrap();
    assert_eq!(moved, 3);
    let ok = eventually(Duration::from_secs(15), || async {
        (applied(broken.clone()).await == 1).then_some(())
    })
    .await;
    assert!(ok.is_some(), "the replayed event was applied");
    let reparked = eventually(Duration::from_secs(15), || async {
        let list = parking::list(&ch, &service, 10).await.unwrap();
        (list.len() == 2).then_some(list)
    })
    .await;
    assert!(
        reparked.is_some(),
        "the poison is parked again, nothing else"
    );

    stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    for q in [format!("{service}.events"), format!("{service}.parking")] {
        let _ = ch.queue_delete(q.into(), Default::default()).await;
    }
    for ms in [100, 200, 400] {
        let _ = ch
            .queue_delete(format!("{service}.retry.{ms}ms").into(), Default::default())
            .await;
    }
}
