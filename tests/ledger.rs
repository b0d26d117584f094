//! The ledger stack the issue tests share: a registry and a ledger on one
//! database, and helpers to make and move issues.
use std::time::Duration;

use lapin::options::BasicPublishOptions;
use uuid::Uuid;
use zoufang_bus::{Envelope, consumer::default_retry_delays};
use zoufang_proto::{common::v1::ItemKind, issues::v1::*};

use crate::{
    Issues, TestService, amqp_url, delete_consumer_queues, eventually, fixtures, unique_name,
    wait_for_queue,
};

/// A registry and a ledger on one database (separate schemas), the ledger
/// with its own queue.
pub struct TestLedger {
    /// The registry.
    pub registry: TestService,
    /// The ledger.
    pub issues: TestService,
    /// The ledger's queue name.
    pub queue: String,
}

impl TestLedger {
    /// Starts both, the ledger sweeping every `sweep_secs`.
    pub async fn start(sweep_secs: u64) -> Self {
        let database = unique_name("zft");
        let registry = TestService::start_on(&database).await;
        let queue = unique_name("zft");
        let issues = TestService::start_issues_on(&database, &queue, sweep_secs).await;
        wait_for_queue(&queue).await;
        Self {
            registry,
            issues,
            queue,
        }
    }

    /// Stops both and deletes the ledger's queues.
    pub async fn stop(self) {
        self.issues.stop().await;
        self.registry.stop().await;
        delete_consumer_queues(&self.queue, &default_retry_delays()).await;
    }

    /// The ledger as a consumer [`crate::quiet`] waits for.
    pub fn consumer(&self) -> crate::quiet::Consumer {
        crate::quiet::Consumer::issues(&self.queue, &self.issues.pool)
    }

    /// Publishes an event (a new event id) under `routing_key` and `subject`
    /// straight to the ledger's own queue, so other tests' services never
    /// see it; returns the event id.
    pub async fn publish(
        &self,
        routing_key: &str,
        subject: &str,
        payload: &impl prost::Message,
    ) -> Uuid {
        let envelope = Envelope {
            id: Uuid::now_v7(),
            source: "/zoufang/test".into(),
            routing_key: routing_key.into(),
            subject: subject.into(),
            time: chrono::Utc::now(),
            county: fixtures::COUNTY.into(),
            trace: Default::default(),
            attempt: 0,
        };
        let conn = zoufang_bus::connect(&amqp_url(), "test-publish")
            .await
            .expect("connect to the broker");
        let ch = zoufang_bus::confirm_channel(&conn).await.expect("channel");
        ch.basic_publish(
            "".into(),
            format!("{}.events", self.queue).into(),
            BasicPublishOptions::default(),
            &payload.encode_to_vec(),
            envelope.to_properties(),
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
        let _ = conn.close(200, "done".into()).await;
        envelope.id
    }

    /// Waits up to `timeout` until the ledger applied the event `event_id`
    /// (its inbox holds it); false when it did not.
    pub async fn applied(&self, event_id: Uuid, timeout: Duration) -> bool {
        eventually(timeout, || async {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE event_id = $1")
                .bind(event_id)
                .fetch_one(&self.issues.pool)
                .await
                .expect("inbox");
            (n > 0).then_some(())
        })
        .await
        .is_some()
    }

    /// Registers a cadre working in `region` (a prefix: 6, 9 or 12 digits)
    /// in the registry, and waits until the ledger's directory has them
    /// (the registry's `registry.cadre.registered` applied); their id.
    pub async fn cadre(&self, name: &str, region: &str) -> String {
        let mut registry = self
            .registry
            .client("admin-1", &["county_admin"], fixtures::COUNTY)
            .await;
        let id = Uuid::new_v4().to_string();
        register_cadre(&mut registry, &id, name, region).await;
        await_cadre(&self.issues.pool, &id).await;
        id
    }

    /// Runs a count query with one text parameter on the ledger's database.
    pub async fn count(&self, sql: &'static str, id: &str) -> i64 {
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&self.issues.pool)
            .await
            .expect("count")
    }
}

/// One issue with its timeline.
pub async fn issue(c: &mut Issues, id: &str) -> (Issue, Vec<TimelineEntry>) {
    let r = c
        .get_issue(GetIssueRequest {
            issue_id: id.into(),
        })
        .await
        .expect("get issue")
        .into_inner();
    (r.issue.unwrap(), r.timeline)
}

/// The state of an issue.
pub fn state_of(i: &Issue) -> IssueState {
    IssueState::try_from(i.state).unwrap()
}

/// A reception (开门接访) issue in the first village.
pub async fn reception_issue(c: &mut Issues, kind: ItemKind, concerned: Vec<String>) -> Issue {
    c.create_issue(CreateIssueRequest {
        issue_id: Uuid::new_v4().to_string(),
        source: IssueSource::Reception as i32,
        region_code: fixtures::VILLAGES[0].into(),
        kind: kind as i32,
        category: "民生工程".into(),
        description: "村里自来水时断时续".into(),
        households_involved: if kind == ItemKind::Dispute { 3 } else { 0 },
        concerned_cadre_ids: concerned,
        ..Default::default()
    })
    .await
    .expect("create issue")
    .into_inner()
    .issue
    .unwrap()
}

/// Registers a township-office cadre `id` named `name` working in `region`
/// through `registry` (a county admin's client).
pub async fn register_cadre(registry: &mut crate::Registry, id: &str, name: &str, region: &str) {
    registry
        .register_cadre(zoufang_proto::registry::v1::RegisterCadreRequest {
            cadre_id: id.into(),
            name: name.into(),
            phone: String::new(),
            unit: zoufang_proto::registry::v1::CadreUnit::TownshipOffice as i32,
            position: "工作队员".into(),
            region_code: region.into(),
            roles: vec!["cadre".into()],
        })
        .await
        .expect("register cadre");
}

/// Waits until the ledger on `issues_pool` has cadre `cadre_id` in its
/// directory (kept from the registry's cadre events); panics after
/// [`crate::quiet::WITHIN`].
pub async fn await_cadre(issues_pool: &sqlx::PgPool, cadre_id: &str) {
    let known = eventually(crate::quiet::WITHIN, || async {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM issues.cadres WHERE cadre_id = $1::uuid")
                .bind(cadre_id)
                .fetch_one(issues_pool)
                .await
                .expect("the ledger's directory of cadres");
        (n > 0).then_some(())
    })
    .await;
    assert!(
        known.is_some(),
        "the ledger never learned of cadre {cadre_id} (its registry.cadre.registered)"
    );
}

/// Assigns an issue to the registered cadre `cadre`, returning it.
pub async fn assigned(c: &mut Issues, i: Issue, cadre: &str) -> Issue {
    c.assign_issue(AssignIssueRequest {
        issue_id: i.issue_id.clone(),
        expected_version: i.version,
        cadre_id: cadre.into(),
        deadline_days: 7,
        note: String::new(),
    })
    .await
    .expect("assign")
    .into_inner()
    .issue
    .unwrap()
}
