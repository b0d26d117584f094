//! Supervision's task events, which the notification service turns into
//! messages: `supervision.callback.assigned` once for each new callback task
//! (a replayed event announces nothing), `supervision.callback.overdue` once
//! for each open task past its due time, however many replicas sweep.
use std::{sync::Arc, time::Duration};
use zoufang_service::Service as _;

use lapin::options::BasicPublishOptions;
use prost::Message;
use uuid::Uuid;
use zoufang_e2e::{
    TestService, common_config, eventually, fixtures, quiet,
    tap::{Seen, Tap},
    unique_name, wait_for_queue,
};
use zoufang_proto::catalogue;
use zoufang_proto::{
    events::v1::{CallbackTask, CallbackTaskChange, VisitRecorded},
    supervision::v1::*,
};
use zoufang_supervision::{app::Application, ops, store};

const ADMIN: &[&str] = &["county_admin"];

fn task(seen: &Seen) -> CallbackTask {
    CallbackTask::decode(seen.payload.as_slice()).expect("a CallbackTask")
}

fn for_callback(id: &str) -> impl Fn(&Seen) -> bool + '_ {
    move |s| CallbackTask::decode(s.payload.as_slice()).is_ok_and(|t| t.callback_id == id)
}

async fn outbox_count(pool: &sqlx::PgPool, key: &str, callback_id: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM supervision.outbox WHERE routing_key = $1 AND subject = $2",
    )
    .bind(key)
    .bind(format!("callbacks/{callback_id}"))
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn callback_of_visit(pool: &sqlx::PgPool, visit_id: &str) -> String {
    eventually(Duration::from_secs(15), || {
        let pool = pool.clone();
        let id = visit_id.to_owned();
        async move {
            sqlx::query_scalar::<_, Uuid>(
                "SELECT callback_id FROM supervision.callbacks WHERE visit_id = $1::uuid",
            )
            .bind(id)
            .fetch_optional(&pool)
            .await
            .ok()
            .flatten()
        }
    })
    .await
    .expect("the sampled visit became a callback")
    .to_string()
}

async fn republish(seen: &Seen, queue: &str) {
    let conn = zoufang_bus::connect(&zoufang_e2e::amqp_url(), "replay")
        .await
        .unwrap();
    let ch = zoufang_bus::confirm_channel(&conn).await.unwrap();
    ch.basic_publish(
        "".into(),
        format!("{queue}.events").into(),
        BasicPublishOptions::default(),
        &seen.payload,
        seen.envelope.to_properties(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let _ = conn.close(200, "replayed".into()).await;
}

/// A supervision configuration on `database` that reaches nothing (no
/// registry, no token exchange): for the sweep alone.
fn sweeper_config(database: &str) -> zoufang_supervision::config::Config {
    zoufang_supervision::config::Config {
        grpc_addr: "127.0.0.1:0".parse().unwrap(),
        registry_url: "http://127.0.0.1:1".into(),
        sweep_interval_secs: 3600,
        consumer_queue: unique_name("zft"),
        token_exchange_url: "http://127.0.0.1:1/internal/token".into(),
        service_secret: zoufang_e2e::service_secret("supervision"),
        service_secret_file: None,
        common: common_config(database),
    }
}

/// Supervision's state on `pool` for sweeping (what another replica's
/// sweeper runs with).
fn sweeper(pool: &sqlx::PgPool) -> ops::State {
    ops::State {
        pool: pool.clone(),
        registry: tonic::transport::Channel::from_static("http://127.0.0.1:1").connect_lazy(),
        exchange: Arc::new(sweeper_config("unused").exchange().unwrap()),
        clock: zoufang_core::clock::Clock::system(),
    }
}

#[tokio::test]
async fn tasks_are_announced_once_when_assigned_and_once_when_overdue() {
    let database = unique_name("zft");
    let registry = TestService::start_on(&database).await;
    let sup_queue = unique_name("zft");
    // Two replicas on one database and one queue, each sweeping every second.
    let supervision =
        TestService::start_supervision_sweeping_on(&database, &sup_queue, registry.grpc_port, 1)
            .await;
    let replica =
        TestService::start_supervision_sweeping_on(&database, &sup_queue, registry.grpc_port, 1)
            .await;
    for q in [registry.queue.clone().unwrap(), sup_queue.clone()] {
        wait_for_queue(&q).await;
    }
    let mut assigned = Tap::bind(catalogue::supervision::CALLBACK_ASSIGNED).await;
    let mut overdue = Tap::bind(catalogue::supervision::CALLBACK_OVERDUE).await;
    let mut recorded = Tap::bind(catalogue::registry::VISIT_RECORDED).await;

    let mut reg = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut reg).await;
    let mut sup_admin = supervision
        .supervision_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    sup_admin
        .create_team(CreateTeamRequest {
            team_id: Uuid::new_v4().to_string(),
            name: "白鹤铺镇督查组".into(),
            region_code: "430426104".into(),
            member_ids: vec!["sup-town".into()],
        })
        .await
        .unwrap();
    // Every visit of the campaign is checked.
    sup_admin
        .set_sampling_policy(SetSamplingPolicyRequest {
            campaign_id: seed.campaign_id.clone(),
            region_code: fixtures::TOWNSHIP.into(),
            policy: Some(SamplingPolicy {
                item_share_bp: 10_000,
                visit_share_bp: 10_000,
                min_visits_per_cadre: 1,
                high_risk_threshold: 60,
                high_risk_visit_share_bp: 10_000,
                due_days: 3,
                max_attempts: 3,
            }),
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;

    let first = fixtures::visit_request(&seed, &seed.household_ids[0]);
    let mut second = fixtures::visit_request(&seed, &seed.household_ids[1]);
    second.started_at = fixtures::ago(5 * 3600);
    second.ended_at = fixtures::ago(4 * 3600);
    reg.record_visit(first.clone()).await.unwrap();
    reg.record_visit(second.clone()).await.unwrap();
    let cb_a = callback_of_visit(&supervision.pool, &first.visit_id).await;
    let cb_b = callback_of_visit(&supervision.pool, &second.visit_id).await;

    // Assigned: one event for each new task, on the town supervisor's
    // worklist. Both are collected at once: two replicas share the queue,
    // so B's may well come first (the tap drops what a filter rejects).
    let both = assigned
        .collect(2, Duration::from_secs(15), |s| {
            for_callback(&cb_a)(s) || for_callback(&cb_b)(s)
        })
        .await;
    let (seen, of_b): (Vec<_>, Vec<_>) = both.into_iter().partition(|s| for_callback(&cb_a)(s));
    assert_eq!(seen.len(), 1, "supervision.callback.assigned for {cb_a}");
    assert_eq!(of_b.len(), 1, "supervision.callback.assigned for {cb_b}");
    assert_eq!(
        seen[0].envelope.routing_key,
        catalogue::supervision::CALLBACK_ASSIGNED
    );
    assert_eq!(seen[0].envelope.subject, format!("callbacks/{cb_a}"));
    assert_eq!(seen[0].envelope.county, fixtures::COUNTY);
    let a = task(&seen[0]);
    assert_eq!(
        (a.change(), a.subject.as_str(), a.supervisor_id.as_str()),
        (CallbackTaskChange::Assigned, "visit", "sup-town")
    );
    assert_eq!(a.region_code, fixtures::VILLAGES[0]);
    // The notice names the place (issue 20: names, not codes).
    assert_eq!(a.region_name, "白鹤铺镇黄龙村");
    assert_eq!(a.campaign_id, seed.campaign_id);
    let due_in = a.due_at.unwrap().seconds - chrono::Utc::now().timestamp();
    assert!((2 * 86400..=3 * 86400).contains(&due_in), "{due_in}");
    assert!(!a.summary.is_empty());
    let everything = format!("{a:?}");
    assert!(
        !everything.contains(&seed.cadre_id) && !everything.contains(&first.household_id),
        "names neither cadre nor household: {everything}"
    );

    // A replay announces nothing: once stopped by the inbox, once (with the
    // inbox row gone, as after pruning) by the task that already exists.
    let visit_events = recorded
        .collect(1, Duration::from_secs(5), |s| {
            VisitRecorded::decode(s.payload.as_slice()).is_ok_and(|v| v.visit_id == first.visit_id)
        })
        .await;
    let event_id = visit_events[0].envelope.id;
    // The first replay is a duplicate: wait until a replica dropped it
    // (both run in this process and count into one metric).
    let duplicates = || {
        zoufang_core::metrics::CONSUMED
            .with_label_values(&[&format!("{sup_queue}.events"), "duplicate"])
            .get()
    };
    let before = duplicates();
    republish(&visit_events[0], &sup_queue).await;
    assert!(
        eventually(Duration::from_secs(15), || async {
            (duplicates() > before).then_some(())
        })
        .await
        .is_some(),
        "the replay was dropped as a duplicate"
    );
    sqlx::query("DELETE FROM supervision.inbox WHERE event_id = $1")
        .bind(event_id)
        .execute(&supervision.pool)
        .await
        .unwrap();
    republish(&visit_events[0], &sup_queue).await;
    let handled = eventually(Duration::from_secs(15), || {
        let pool = supervision.pool.clone();
        async move {
            let n: i64 =
                sqlx::query_scalar("SELECT count(*) FROM supervision.inbox WHERE event_id = $1")
                    .bind(event_id)
                    .fetch_one(&pool)
                    .await
                    .ok()?;
            (n == 1).then_some(())
        }
    })
    .await;
    assert!(handled.is_some(), "the replay was handled again");
    // Its inbox row commits with whatever the handler wrote: once that is
    // published, the tap holds all of it.
    quiet::outbox_drained(&supervision.pool, "supervision").await;
    let again = assigned.drain(for_callback(&cb_a)).await;
    assert!(again.is_empty(), "a replay publishes nothing: {again:?}");
    assert_eq!(
        outbox_count(
            &supervision.pool,
            catalogue::supervision::CALLBACK_ASSIGNED,
            &cb_a
        )
        .await,
        1
    );
    let tasks: i64 =
        sqlx::query_scalar("SELECT count(*) FROM supervision.callbacks WHERE visit_id = $1::uuid")
            .bind(&first.visit_id)
            .fetch_one(&supervision.pool)
            .await
            .unwrap();
    assert_eq!(tasks, 1);

    // Overdue: A's due time passes; both replicas sweep every second, and
    // the notice is written once. B is not due yet.
    let due_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "UPDATE supervision.callbacks SET due_at = now() - interval '1 hour'
         WHERE callback_id = $1::uuid RETURNING due_at",
    )
    .bind(&cb_a)
    .fetch_one(&supervision.pool)
    .await
    .unwrap();
    let seen = overdue
        .collect(1, Duration::from_secs(15), for_callback(&cb_a))
        .await;
    assert_eq!(seen.len(), 1, "supervision.callback.overdue for {cb_a}");
    assert_eq!(seen[0].envelope.subject, format!("callbacks/{cb_a}"));
    let o = task(&seen[0]);
    assert_eq!(
        (o.change(), o.supervisor_id.as_str()),
        (CallbackTaskChange::Overdue, "sup-town")
    );
    assert_eq!(o.due_at.unwrap().seconds, due_at.timestamp());
    // Sweeps after the announcement, as a third replica: each finds
    // nothing more to announce (and the two replicas go on sweeping).
    let third = sweeper(&supervision.pool);
    for _ in 0..3 {
        assert_eq!(
            ops::sweep::sweep_once(&third).await.expect("sweep"),
            0,
            "a later sweep announces nothing"
        );
    }
    quiet::outbox_drained(&supervision.pool, "supervision").await;
    let more = overdue
        .drain(|s| for_callback(&cb_a)(s) || for_callback(&cb_b)(s))
        .await;
    assert!(more.is_empty(), "announced once, B not at all: {more:?}");
    assert_eq!(
        outbox_count(
            &supervision.pool,
            catalogue::supervision::CALLBACK_OVERDUE,
            &cb_a
        )
        .await,
        1
    );
    assert_eq!(
        outbox_count(
            &supervision.pool,
            catalogue::supervision::CALLBACK_OVERDUE,
            &cb_b
        )
        .await,
        0
    );
    let notified: Vec<(Uuid, bool)> = sqlx::query_as(
        "SELECT callback_id, overdue_notified_at IS NOT NULL FROM supervision.callbacks
         WHERE callback_id IN ($1::uuid, $2::uuid) ORDER BY callback_id = $1::uuid DESC",
    )
    .bind(&cb_a)
    .bind(&cb_b)
    .fetch_all(&supervision.pool)
    .await
    .unwrap();
    assert_eq!(
        notified.iter().map(|n| n.1).collect::<Vec<_>>(),
        vec![true, false]
    );

    replica.stop().await;
    supervision.stop().await;
    registry.stop().await;
}

/// The sweep on the store and ops level, without a running service: a row
/// locked by one sweeper is skipped (not waited for) by another, and each
/// overdue open task gets exactly one event.
#[tokio::test]
async fn sweeps_skip_locked_rows_and_announce_each_overdue_task_once() {
    let database = unique_name("zft");
    let app = Application::build(sweeper_config(&database))
        .await
        .expect("supervision builds");
    let pool = app.pool();
    let state = sweeper(&pool);
    // Three open and overdue, one overdue but done, one open and not yet due.
    let rows = [
        ("open", "-3 hours"),
        ("open", "-2 hours"),
        ("open", "-1 hours"),
        ("done", "-4 hours"),
        ("open", "+1 day"),
    ];
    let mut ids = Vec::new();
    for (state, due) in rows {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO supervision.callbacks (county, callback_id, subject, region_code, state,
                due_at, max_attempts, summary, supervisor_id)
             VALUES ('430426', $1, 2, '430426104201', $2, now() + $3::interval, 3,
                '2026-11-29 入户走访，核实是否走访', 'sup-town')",
        )
        .bind(id)
        .bind(state)
        .bind(due)
        .execute(&pool)
        .await
        .unwrap();
        ids.push(id);
    }
    let now = chrono::Utc::now();
    assert_eq!(
        store::callbacks::overdue_counties(&pool, now)
            .await
            .unwrap(),
        vec!["430426".to_owned()],
        "the sweep claims in the one county with overdue callbacks"
    );

    let mut first = pool.begin().await.unwrap();
    let claimed = store::callbacks::claim_overdue(&mut first, "430426", now, 2)
        .await
        .unwrap();
    let mut got: Vec<Uuid> = claimed.iter().map(|r| r.callback_id).collect();
    got.sort();
    let mut oldest = vec![ids[0], ids[1]];
    oldest.sort();
    assert_eq!(got, oldest, "the two longest overdue");
    let mut second = pool.begin().await.unwrap();
    let claimed = tokio::time::timeout(
        Duration::from_secs(5),
        store::callbacks::claim_overdue(&mut second, "430426", now, 500),
    )
    .await
    .expect("a second sweeper does not wait for the first")
    .unwrap();
    assert_eq!(
        claimed.iter().map(|r| r.callback_id).collect::<Vec<_>>(),
        vec![ids[2]],
        "it skips the locked rows"
    );
    second.rollback().await.unwrap();
    first.rollback().await.unwrap();

    assert_eq!(ops::sweep::sweep_once(&state).await.unwrap(), 3);
    assert_eq!(ops::sweep::sweep_once(&state).await.unwrap(), 0);
    let events: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT subject, payload FROM supervision.outbox
         WHERE routing_key = 'supervision.callback.overdue' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut announced: Vec<String> = events
        .iter()
        .map(|(subject, payload)| {
            let t = CallbackTask::decode(payload.as_slice()).unwrap();
            assert_eq!(subject, &format!("callbacks/{}", t.callback_id));
            assert_eq!(
                (t.change(), t.subject.as_str()),
                (CallbackTaskChange::Overdue, "visit")
            );
            t.callback_id
        })
        .collect();
    announced.sort();
    let mut expected: Vec<String> = ids[..3].iter().map(Uuid::to_string).collect();
    expected.sort();
    assert_eq!(announced, expected);
    app.shutdown_token().cancel();
}
