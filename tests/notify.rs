//! The notification service under test: on a database of the test's
//! choosing, with its own queue, a clock the test may move, and helpers to
//! publish events straight to its queue (so other tests' services do not
//! see them).
use chrono::Utc;
use lapin::options::BasicPublishOptions;
use tonic::{service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;
use zoufang_bus::{Envelope, consumer::default_retry_delays};
use zoufang_core::auth::BearerInterceptor;
use zoufang_core::clock::Clock;
use zoufang_notify::{app::Application, config::Config, ops::State};
use zoufang_proto::notify::v1::notify_service_client::NotifyServiceClient;
use zoufang_service::Service as _;

use crate::{
    TestService, amqp_url, common_config, delete_consumer_queues, fixtures, token, unique_name,
    wait_for_queue,
};

/// An authenticated notify client.
pub type Notify = NotifyServiceClient<InterceptedService<Channel, BearerInterceptor>>;

/// A notify configuration on `database`, on port 0, with its own queue and a
/// quick dispatcher.
pub fn notify_config(database: &str) -> Config {
    Config {
        grpc_addr: "127.0.0.1:0".parse().expect("addr"),
        consumer_queue: unique_name("zft"),
        link_base_url: "http://zoufang.test".into(),
        // Robots and webhooks of the tests are fake servers on 127.0.0.1.
        outbound_allow: "127.0.0.1".into(),
        sms_provider_url: None,
        sms_provider_token: String::new(),
        sms_sign_name: "走访".into(),
        dispatch_interval_ms: 100,
        delivery_backoff_ms: 200,
        delivery_max_backoff_secs: 5,
        delivery_max_attempts: 6,
        delivery_timeout_secs: 5,
        escalation_step_secs: 3600,
        digest_hour: 8,
        common: common_config(database),
    }
}

/// A running notification service.
pub struct TestNotify {
    pub service: TestService,
    /// Its operations state (its clock, its pool).
    pub state: State,
    pub queue: String,
}

impl TestNotify {
    /// Starts it on `database` with `clock`, after `configure` adjusts the
    /// test defaults, and waits for its queue.
    pub async fn start(database: &str, clock: Clock, configure: impl FnOnce(&mut Config)) -> Self {
        crate::cleanup_old_runs();
        let mut config = notify_config(database);
        configure(&mut config);
        let queue = config.consumer_queue.clone();
        let app = Application::build_with_clock(config, clock)
            .await
            .expect("notify builds");
        let state = app.state();
        let mut service = launch!("notify", app, database);
        service.queue = Some(queue.clone());
        wait_for_queue(&queue).await;
        Self {
            service,
            state,
            queue,
        }
    }

    /// A client acting as `sub`.
    pub async fn client(&self, sub: &str, roles: &[&str], scope: &str) -> Notify {
        NotifyServiceClient::with_interceptor(
            self.service.channel().await,
            BearerInterceptor(token(sub, roles, scope)),
        )
    }

    /// This service as a consumer [`crate::quiet`] waits for.
    pub fn consumer(&self) -> crate::quiet::Consumer {
        crate::quiet::Consumer::notify(&self.queue, &self.service.pool)
    }

    /// Waits until the service has done everything it will do with what it
    /// was given so far, at its clock's current time: it applied the events
    /// before a marker in `lane` ([`crate::quiet::caught_up`]), a dispatch
    /// round of its own ran after that (deliveries, the escalation ladder,
    /// digests), no delivery is due or being sent and no escalation is due,
    /// and its outbox is published.
    pub async fn settle(&self, lane: &crate::quiet::Lane) {
        crate::quiet::caught_up(&self.consumer(), lane).await;
        zoufang_notify::dispatch::run_once(&self.state)
            .await
            .expect("a dispatch round");
        let t0 = std::time::Instant::now();
        loop {
            let now = self.state.clock.now();
            let busy: i64 = sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM notify.deliveries
                          WHERE state = 'sending' OR (state = 'pending' AND next_at <= $1))
                      + (SELECT count(*) FROM notify.escalations WHERE next_at <= $1)",
            )
            .bind(now)
            .fetch_one(&self.service.pool)
            .await
            .expect("due work");
            if busy == 0 {
                break;
            }
            assert!(
                t0.elapsed() < crate::quiet::WITHIN,
                "notify: {busy} deliveries or escalations still due after {:?}",
                crate::quiet::WITHIN
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        crate::quiet::outbox_drained(&self.service.pool, "notify").await;
    }

    /// Publishes an event (new id) to this service's queue only; its envelope.
    pub async fn publish(&self, routing_key: &str, payload: &impl prost::Message) -> Envelope {
        let subject_id = Uuid::new_v4();
        let envelope = Envelope {
            id: Uuid::now_v7(),
            source: "/zoufang/test".into(),
            routing_key: routing_key.into(),
            subject: format!("test/{subject_id}"),
            time: Utc::now(),
            county: fixtures::COUNTY.into(),
            trace: Default::default(),
            attempt: 0,
        };
        self.redeliver(&payload.encode_to_vec(), envelope.clone())
            .await;
        envelope
    }

    /// Publishes `payload` under `envelope` (e.g. one seen before) to this
    /// service's queue.
    pub async fn redeliver(&self, payload: &[u8], envelope: Envelope) {
        let conn = zoufang_bus::connect(&amqp_url(), "test-publish")
            .await
            .expect("connect to the broker");
        let ch = zoufang_bus::confirm_channel(&conn).await.expect("channel");
        ch.basic_publish(
            "".into(),
            format!("{}.events", self.queue).into(),
            BasicPublishOptions::default(),
            payload,
            envelope.to_properties(),
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
        let _ = conn.close(200, "done".into()).await;
    }

    /// Stops it and deletes its queues.
    pub async fn stop(self) {
        self.service.stop().await;
        delete_consumer_queues(&self.queue, &default_retry_delays()).await;
    }
}
