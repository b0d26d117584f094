//! RabbitMQ restarts while visits are being recorded: the relay, the test
//! consumer and the ledger's own consumer reconnect, nothing is lost,
//! nothing is applied twice (the test consumer's record and the ledger's
//! entries, each visit's items once), and the township's events arrive in
//! the order they were recorded.
//!
//! It restarts the broker of this machine: it runs in the binary `faults`,
//! alone (see `serial`).
use std::{process::Command, time::Duration};

use tokio_util::sync::CancellationToken;
use zoufang_e2e::{
    TestRegistry, TestService, consumer::TestConsumer, eventually, fixtures, unique_name,
    wait_for_queue,
};

/// Starts the broker's application again when dropped (the test panicked
/// between `stop_app` and `start_app`), so no later test finds the broker
/// stopped.
struct StartAppOnDrop;

impl Drop for StartAppOnDrop {
    fn drop(&mut self) {
        // Harmless when the application runs already.
        for args in [["start_app"].as_slice(), &["await_startup"]] {
            match Command::new("rabbitmqctl").args(args).output() {
                Ok(out) if out.status.success() => {}
                Ok(out) => eprintln!(
                    "broker_restart: rabbitmqctl {args:?} at the end: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                Err(e) => eprintln!("broker_restart: rabbitmqctl {args:?} at the end: {e}"),
            }
        }
    }
}

fn rabbitmqctl(args: &[&str]) {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl runs");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_mid_stream_loses_and_doubles_nothing() {
    let _serial = crate::serial().await;
    // A test before this one may have left the broker booting: wait for it
    // before the first connection.
    rabbitmqctl(&["await_startup"]);
    let registry = TestRegistry::start().await;
    let mut admin = registry
        .client("admin-1", &["county_admin"], fixtures::COUNTY)
        .await;
    let seed = fixtures::seed(&mut admin).await;
    // A real service's consumer beside the test's: the ledger.
    let ledger_queue = unique_name("zft");
    let ledger = TestService::start_issues_on(&registry.database, &ledger_queue, 3600).await;
    wait_for_queue(&ledger_queue).await;
    let (consumer, runner) = TestConsumer::new(&registry.database).await;
    let stop = CancellationToken::new();
    let consumer_task = tokio::spawn(runner.run(stop.clone()));

    const VISITS: usize = 60;
    let mut recorded = Vec::with_capacity(VISITS);
    // Whatever happens from here on, the broker runs again at the end.
    let _started_at_the_end = StartAppOnDrop;
    for i in 0..VISITS {
        if i == 20 {
            rabbitmqctl(&["stop_app"]);
        }
        if i == 40 {
            // The outage was felt: what was recorded meanwhile waits in the outbox.
            let waiting: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(&registry.pool)
                    .await
                    .expect("outbox");
            assert!(
                waiting > 0,
                "nothing waited in the outbox while the broker was down"
            );
            rabbitmqctl(&["start_app"]);
            rabbitmqctl(&["await_startup"]);
        }
        let household = &seed.household_ids[i % seed.household_ids.len()];
        let req = fixtures::visit_request(&seed, household);
        recorded.push(req.visit_id.clone());
        // Recording needs only PostgreSQL: it goes on while the broker is down.
        admin.record_visit(req).await.expect("record visit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let all_applied = eventually(Duration::from_secs(90), || async {
        let order = consumer.applied_order().await;
        (order.len() >= VISITS).then_some(order)
    })
    .await;
    let order = all_applied.unwrap_or_else(|| panic!("not every visit was applied within 90 s"));
    println!("recorded {VISITS} visits, applied {} events", order.len());
    assert_eq!(order.len(), VISITS, "nothing applied twice");
    assert_eq!(
        order, recorded,
        "applied in the order recorded, each exactly once"
    );
    let unpublished: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&registry.pool)
            .await
            .unwrap();
    assert_eq!(unpublished, 0, "every outbox row marked sent");

    // The ledger: each visit's two items, once each.
    let ids: Vec<uuid::Uuid> = recorded.iter().map(|v| v.parse().expect("uuid")).collect();
    let entries = eventually(Duration::from_secs(90), || async {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT count(*), count(DISTINCT (visit_id, item_no)) FROM issues.issues
             WHERE visit_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&ledger.pool)
        .await
        .expect("ledger");
        let (rows, distinct) = rows[0];
        (distinct == 2 * VISITS as i64).then_some((rows, distinct))
    })
    .await
    .unwrap_or_else(|| panic!("the ledger did not take every visit's items within 90 s"));
    assert_eq!(
        entries,
        (2 * VISITS as i64, 2 * VISITS as i64),
        "each visit's two items in the ledger exactly once"
    );

    stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), consumer_task).await;
    consumer.delete_queues().await;
    ledger.stop().await;
    registry.stop().await;
}
