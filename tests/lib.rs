//! Helpers for the end-to-end tests: a fresh database per test, real
//! services on port 0, tokens, gRPC clients, and cleanup of what earlier
//! runs left behind (old test databases and queues).
#![forbid(unsafe_code)]

use std::{
    sync::Once,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use zoufang_service::Service as _;

use tokio_util::sync::CancellationToken;
use tonic::{service::interceptor::InterceptedService, transport::Channel};
use zoufang_core::{
    auth::{BearerInterceptor, DEV_JWT_PUBLIC_KEY_PEM, JwtKeys},
    config::CommonConfig,
    pii::DEV_PII_KEY_HEX,
};
use zoufang_proto::registry::v1::registry_service_client::RegistryServiceClient;
use zoufang_registry::{app::Application, config::Config};

pub mod fake_http;
pub mod fixtures;
pub mod fuzz_bodies;
pub mod ledger;

/// PostgreSQL server the tests use (DATABASE_URL without a database name).
pub fn pg_server() -> String {
    std::env::var("TEST_PG_SERVER").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// RabbitMQ server the tests use (`TEST_AMQP_SERVER`: an AMQP URL without
/// a virtual host).
pub fn amqp_server() -> String {
    std::env::var("TEST_AMQP_SERVER").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672".into())
}

/// The RabbitMQ virtual host of the tests (`TEST_AMQP_VHOST`, default
/// `zoufang-test`): apart from a stack `scripts/run.sh` runs on the same
/// broker (`zoufang-dev`), whose queues have the same names.
pub fn amqp_vhost() -> String {
    std::env::var("TEST_AMQP_VHOST").unwrap_or_else(|_| "zoufang-test".into())
}

/// RabbitMQ URL the tests use: [`amqp_server`] and [`amqp_vhost`]
/// (URL-encoded), the virtual host created on first use if missing.
pub fn amqp_url() -> String {
    ensure_vhost();
    format!("{}/{}", amqp_server(), url_encode(&amqp_vhost()))
}

/// Creates the tests' virtual host on the local node and lets `guest` use
/// it, once per process (both idempotent; `scripts/test.sh` does the same
/// first). Failures are ignored: a remote broker is set up by its owner, and
/// a missing host then fails the first connection.
fn ensure_vhost() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let vhost = amqp_vhost();
        let _ = std::process::Command::new("rabbitmqctl")
            .args(["-q", "add_vhost", &vhost])
            .output();
        let _ = std::process::Command::new("rabbitmqctl")
            .args([
                "-q",
                "set_permissions",
                "-p",
                &vhost,
                "guest",
                ".*",
                ".*",
                ".*",
            ])
            .output();
    });
}

/// Percent-encodes everything but RFC 3986's unreserved characters (a
/// virtual host is one path segment of the AMQP URL: `/` is `%2F`).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A name unique to this test run: `<prefix><unix secs>x<random>`; the time
/// lets later runs clean up what a crashed run left.
pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        unix_now(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Drops test databases and deletes test queues older than an hour, and
/// queues nobody consumes older than ten minutes (once per process).
pub fn cleanup_old_runs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let cutoff = unix_now().saturating_sub(3600);
        let old = |name: &str, prefix: &str| {
            name.strip_prefix(prefix)
                .and_then(|rest| rest.split('x').next())
                .and_then(|secs| secs.parse::<u64>().ok())
                .is_some_and(|secs| secs < cutoff)
        };
        if let Ok(out) = std::process::Command::new("psql")
            .args([
                &format!("{}/postgres", pg_server()),
                "-Atc",
                "SELECT datname FROM pg_database WHERE datname LIKE 'zft%'",
            ])
            .output()
        {
            for db in String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|d| old(d, "zft"))
            {
                let _ = std::process::Command::new("psql")
                    .args([
                        &format!("{}/postgres", pg_server()),
                        "-qc",
                        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
                    ])
                    .output();
            }
        }
        // Queues go sooner when nobody consumes them: a crashed test's
        // queue stays bound to the shared exchange and keeps a persistent
        // copy of every event every later stack publishes, which slows the
        // broker for every run after it (a benchmark found three holding
        // 150k messages each). A live test's queues without consumers
        // (retry, parking, a killed service's) are younger than that.
        let idle_cutoff = unix_now().saturating_sub(600);
        let idle_old = |name: &str| {
            name.strip_prefix("zft")
                .and_then(|rest| rest.split('x').next())
                .and_then(|secs| secs.parse::<u64>().ok())
                .is_some_and(|secs| secs < idle_cutoff)
        };
        if let Ok(out) = std::process::Command::new("rabbitmqctl")
            .args([
                "-q",
                "list_queues",
                "-p",
                &amqp_vhost(),
                "name",
                "consumers",
            ])
            .output()
        {
            for q in String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|line| {
                    let mut fields = line.split_whitespace();
                    let name = fields.next()?;
                    let consumers: u32 = fields.next()?.parse().ok()?;
                    (old(name, "zft") || (consumers == 0 && idle_old(name))).then_some(name)
                })
            {
                let _ = std::process::Command::new("rabbitmqctl")
                    .args(["-q", "delete_queue", "-p", &amqp_vhost(), q])
                    .output();
            }
        }
    });
}

/// The common configuration for a service under test on its own database:
/// the development keys given explicitly (not development mode).
pub fn common_config(database: &str) -> CommonConfig {
    CommonConfig {
        database_url: format!("{}/{database}", pg_server()),
        db_max_connections: 8,
        amqp_url: amqp_url(),
        jwt_public_key: Some(DEV_JWT_PUBLIC_KEY_PEM.into()),
        jwt_public_key_file: None,
        pii_key: Some(DEV_PII_KEY_HEX.into()),
        dev_mode: false,
        otlp_endpoint: None,
        admin_addr: Some("127.0.0.1:0".parse().expect("addr")),
        shutdown_grace_secs: 5,
        outbox_retention_days: 7,
        inbox_retention_days: 30,
    }
}

/// An authenticated registry client.
pub type Registry = RegistryServiceClient<InterceptedService<Channel, BearerInterceptor>>;

/// A registry configuration on `database`, on port 0, with its own queue.
pub fn registry_config(database: &str) -> Config {
    Config {
        grpc_addr: "127.0.0.1:0".parse().expect("addr"),
        consumer_queue: unique_name("zft"),
        common: common_config(database),
    }
}

/// An authenticated ledger client.
pub type Issues = zoufang_proto::issues::v1::issue_service_client::IssueServiceClient<
    InterceptedService<Channel, BearerInterceptor>,
>;

/// An authenticated supervision client.
pub type Supervision =
    zoufang_proto::supervision::v1::supervision_service_client::SupervisionServiceClient<
        InterceptedService<Channel, BearerInterceptor>,
    >;

/// Waits until a consuming service has declared its main queue.
pub async fn wait_for_queue(service_queue: &str) {
    let q = format!("{service_queue}.events");
    let found = eventually(Duration::from_secs(15), || {
        let q = q.clone();
        async move {
            let conn = zoufang_bus::connect(&amqp_url(), "probe").await.ok()?;
            let ch = conn.create_channel().await.ok()?;
            let ok = ch
                .queue_declare(
                    q.into(),
                    lapin::options::QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    Default::default(),
                )
                .await
                .is_ok();
            let _ = conn.close(200, "probe".into()).await;
            ok.then_some(())
        }
    })
    .await;
    assert!(
        found.is_some(),
        "queue {service_queue}.events was never declared"
    );
}

/// Both service kinds start the same way: build, read the ports, run.
macro_rules! launch {
    ($name:expr, $app:expr, $database:expr) => {{
        let app = $app;
        let (grpc_port, admin_port, pool, shutdown) = (
            app.grpc_port(),
            app.admin_port(),
            app.pool(),
            app.shutdown_token(),
        );
        let handle = tokio::spawn(app.run_until_stopped());
        TestService {
            name: $name,
            database: $database.to_owned(),
            pool,
            grpc_port,
            admin_port,
            shutdown,
            handle: Some(handle),
            queue: None,
            authority: None,
        }
    }};
}

/// The registry under test (most tests use only it).
pub type TestRegistry = TestService;

/// A service running on port 0 against its own database. [`TestService::stop`]
/// fails the test unless the service stops within [`STOP_WITHIN`] and returns
/// Ok; dropped without a stop (a test that panicked, or forgot), it is told
/// to stop, and if it had already ended with an error, that is reported.
pub struct TestService {
    /// Which service (`registry`, `issues`, `supervision`, `notify`, `petition`).
    pub name: &'static str,
    /// The database this instance owns.
    pub database: String,
    /// Its pool (search_path = registry), to check what was written.
    pub pool: sqlx::PgPool,
    /// Its gRPC port.
    pub grpc_port: u16,
    /// Its admin (HTTP) port.
    pub admin_port: u16,
    /// Cancel to stop it.
    pub shutdown: CancellationToken,
    /// Its consumer queue name, deleted when it stops.
    pub queue: Option<String>,
    /// The token authority it exchanges tokens with, stopped with it.
    pub authority: Option<Authority>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// How long a service under test may take to stop after its shutdown is
/// requested (its grace is 5 s).
pub const STOP_WITHIN: Duration = Duration::from_secs(20);

/// Waits for the task of an in-process service whose shutdown was
/// requested; panics unless it returned Ok within [`STOP_WITHIN`].
pub async fn expect_clean_exit(what: &str, handle: tokio::task::JoinHandle<anyhow::Result<()>>) {
    check_exit(what, tokio::time::timeout(STOP_WITHIN, handle).await);
}

/// What a service's task gave within [`STOP_WITHIN`]: panics unless Ok.
fn check_exit(
    what: &str,
    exited: Result<Result<anyhow::Result<()>, tokio::task::JoinError>, tokio::time::error::Elapsed>,
) {
    match exited {
        Err(_) => panic!("{what} did not stop within {STOP_WITHIN:?} of its shutdown"),
        Ok(Err(e)) => panic!("{what} panicked or was cancelled: {e}"),
        Ok(Ok(Err(e))) => panic!("{what} stopped with an error: {e:#}"),
        Ok(Ok(Ok(()))) => {}
    }
}

/// In `Drop`: if the task already ended with an error or a panic, says so
/// (a panic, unless the thread is panicking already).
fn report_early_exit(what: &str, handle: &mut tokio::task::JoinHandle<anyhow::Result<()>>) {
    use futures::FutureExt as _;
    if !handle.is_finished() {
        return;
    }
    let failure = match handle.now_or_never() {
        Some(Ok(Err(e))) => format!("{what} stopped with an error: {e:#}"),
        Some(Err(e)) => format!("{what} panicked: {e}"),
        _ => return,
    };
    if std::thread::panicking() {
        eprintln!("{failure}");
    } else {
        panic!("{failure}");
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(handle) = &mut self.handle {
            report_early_exit(self.name, handle);
        }
    }
}

impl TestService {
    /// Starts a registry on a new database.
    pub async fn start() -> Self {
        Self::start_on(&unique_name("zft")).await
    }

    /// Starts a registry on the named database (created when missing).
    pub async fn start_on(database: &str) -> Self {
        let config = registry_config(database);
        Self::start_with(config, database).await
    }

    /// Starts a registry with a given configuration.
    pub async fn start_with(config: Config, database: &str) -> Self {
        cleanup_old_runs();
        let queue = config.consumer_queue.clone();
        let mut service = launch!(
            "registry",
            Application::build(config).await.expect("registry builds"),
            database
        );
        service.queue = Some(queue);
        service
    }

    /// Starts the ledger on the named database, sweeping every `sweep_secs`.
    /// Its queues are named `consumer_queue` (unique per test: parallel
    /// tests must not take each other's events).
    pub async fn start_issues_on(database: &str, consumer_queue: &str, sweep_secs: u64) -> Self {
        cleanup_old_runs();
        let config = zoufang_issues::config::Config {
            grpc_addr: "127.0.0.1:0".parse().expect("addr"),
            sweep_interval_secs: sweep_secs,
            due_soon_hours: 24,
            max_rectification_loops: 2,
            consumer_queue: consumer_queue.to_owned(),
            common: common_config(database),
        };
        let mut service = launch!(
            "issues",
            zoufang_issues::app::Application::build(config)
                .await
                .expect("issues builds"),
            database
        );
        // Deleted on stop: a queue left behind keeps collecting every later
        // test's events (hundreds of thousands in one suite run), and the
        // broker's flow control then slows everything.
        service.queue = Some(consumer_queue.to_owned());
        service
    }

    /// Starts the supervision service on the named database with its own queues.
    /// It reads phone numbers from the registry listening on `registry_port`.
    pub async fn start_supervision_on(
        database: &str,
        consumer_queue: &str,
        registry_port: u16,
    ) -> Self {
        Self::start_supervision_sweeping_on(database, consumer_queue, registry_port, 60).await
    }

    /// Like [`Self::start_supervision_on`], sweeping for overdue callbacks every `sweep_secs`.
    pub async fn start_supervision_sweeping_on(
        database: &str,
        consumer_queue: &str,
        registry_port: u16,
        sweep_secs: u64,
    ) -> Self {
        cleanup_old_runs();
        let (token_exchange_url, authority) = start_authority(database).await;
        let config = zoufang_supervision::config::Config {
            grpc_addr: "127.0.0.1:0".parse().expect("addr"),
            registry_url: format!("http://127.0.0.1:{registry_port}"),
            sweep_interval_secs: sweep_secs,
            consumer_queue: consumer_queue.to_owned(),
            token_exchange_url,
            service_secret: service_secret("supervision"),
            service_secret_file: None,
            common: common_config(database),
        };
        let mut service = launch!(
            "supervision",
            zoufang_supervision::app::Application::build(config)
                .await
                .expect("supervision builds"),
            database
        );
        service.queue = Some(consumer_queue.to_owned());
        service.authority = Some(authority);
        service
    }

    /// A supervision client acting as `sub` with `roles` and `scope`.
    pub async fn supervision_client(&self, sub: &str, roles: &[&str], scope: &str) -> Supervision {
        zoufang_proto::supervision::v1::supervision_service_client::SupervisionServiceClient::with_interceptor(
            self.channel().await,
            BearerInterceptor(token(sub, roles, scope)),
        )
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://127.0.0.1:{}", self.grpc_port))
            .expect("uri")
            .connect()
            .await
            .expect("connect to the service")
    }

    /// A registry client acting as `sub` with `roles` and `scope`.
    pub async fn client(&self, sub: &str, roles: &[&str], scope: &str) -> Registry {
        RegistryServiceClient::with_interceptor(
            self.channel().await,
            BearerInterceptor(token(sub, roles, scope)),
        )
    }

    /// A ledger client acting as `sub` with `roles` and `scope`.
    pub async fn issues_client(&self, sub: &str, roles: &[&str], scope: &str) -> Issues {
        zoufang_proto::issues::v1::issue_service_client::IssueServiceClient::with_interceptor(
            self.channel().await,
            BearerInterceptor(token(sub, roles, scope)),
        )
    }

    /// Stops the service and waits for it; panics unless it returns Ok
    /// within [`STOP_WITHIN`] (its queues are deleted and its token
    /// authority stopped first, whatever it returned).
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let handle = self.handle.take().expect("a running service");
        let exited = tokio::time::timeout(STOP_WITHIN, handle).await;
        if let Some(queue) = &self.queue {
            delete_consumer_queues(queue, &zoufang_bus::consumer::default_retry_delays()).await;
        }
        if let Some(authority) = self.authority.take() {
            authority.stop().await;
        }
        check_exit(&format!("{} on {}", self.name, self.database), exited);
    }
}

/// Deletes a consuming service's queues (main, parking, retry delays).
pub async fn delete_consumer_queues(service: &str, retry_delays: &[Duration]) {
    let Ok(conn) = zoufang_bus::connect(&amqp_url(), "test-cleanup").await else {
        return;
    };
    let Ok(ch) = conn.create_channel().await else {
        return;
    };
    for q in [format!("{service}.events"), format!("{service}.parking")] {
        let _ = ch.queue_delete(q.into(), Default::default()).await;
    }
    for d in retry_delays {
        let _ = ch
            .queue_delete(
                format!("{service}.retry.{}ms", d.as_millis()).into(),
                Default::default(),
            )
            .await;
    }
    let _ = conn.close(200, "cleanup".into()).await;
}

/// The development key pair (signs like the gateway), built once.
pub fn dev_keys() -> &'static JwtKeys {
    static KEYS: std::sync::OnceLock<JwtKeys> = std::sync::OnceLock::new();
    KEYS.get_or_init(JwtKeys::development)
}

/// A development token (an operator's, as `zfctl token` mints: no session).
pub fn token(sub: &str, roles: &[&str], scope: &str) -> String {
    dev_keys()
        .mint_for(sub, roles, scope, chrono::Duration::hours(1))
        .expect("mint")
}

/// A key pair nobody trusts (an impostor's): tokens it signs must be refused.
pub fn impostor_keys() -> JwtKeys {
    const PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgOpv1eFoKoG5ZTk/y
h8KYldUcLvZZv9gKnq3p5IR0aWOhRANCAAQb1lqp7rP8b81zfp/mtmbooh9Rxg6G
J61co9lKPRM7+zKRGmOL6LTX2BSbBlONjTSUygY66Cy+KQorXksiz9dX
-----END PRIVATE KEY-----";
    const PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEG9Zaqe6z/G/Nc36f5rZm6KIfUcYO
hietXKPZSj0TO/sykRpji+i019gUmwZTjY00lMoGOugsvikKK15LIs/XVw==
-----END PUBLIC KEY-----";
    JwtKeys::from_pem_es256(Some(PRIVATE.as_bytes()), PUBLIC.as_bytes()).expect("impostor keys")
}

/// A token exchange URL for a service under test: a gateway on `database`
/// whose only use is the exchange (its upstreams are never called), and the
/// handle that stops it.
pub async fn start_authority(database: &str) -> (String, Authority) {
    let mut config = gateway::gateway_config(database, 9, 9, 9, 9, 9);
    // Sign-ins and session checks only: a small share of the server's connections.
    config.common.db_max_connections = 2;
    let app = zoufang_gateway::app::Application::build(config)
        .await
        .expect("token authority builds");
    let url = format!(
        "http://127.0.0.1:{}{}",
        app.admin_port(),
        zoufang_core::auth::exchange::PATH
    );
    let (shutdown, http_port) = (app.shutdown_token(), app.http_port());
    let handle = tokio::spawn(app.run_until_stopped());
    let authority = Authority {
        url: url.clone(),
        http_port,
        shutdown,
        handle,
    };
    (url, authority)
}

/// A running token authority (see [`start_authority`]).
pub struct Authority {
    /// Its token exchange URL.
    pub url: String,
    /// Its HTTP port (sign-in; the bootstrap admin exists).
    pub http_port: u16,
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Authority {
    /// Stops it and waits; panics unless it returns Ok within [`STOP_WITHIN`].
    pub async fn stop(self) {
        self.shutdown.cancel();
        expect_clean_exit("the token authority (a gateway)", self.handle).await;
    }
}

/// A service's development secret at the token exchange.
pub fn service_secret(client: &str) -> Option<String> {
    Some(zoufang_core::auth::exchange::dev_service_secret(client))
}

/// Polls `check` every 50 ms until it returns Some or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A consumer built on the runtime's inbox that records each visit it applies.
pub mod consumer {
    use std::time::Duration;

    use sqlx::PgConnection;
    use zoufang_bus::{
        consumer::{Consumer, EventHandler, HandlerError, IncomingEvent},
        topology::ConsumerTopology,
    };
    use zoufang_proto::events::v1::VisitRecorded;

    /// Migrations of the test consumer's schema (the `applied` table).
    pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

    /// The test consumer's retry delays.
    pub fn retry_delays() -> Vec<Duration> {
        ConsumerTopology::exponential(Duration::from_millis(200), 3)
    }

    /// Records every `registry.visit.recorded` it applies (and ignores one
    /// without a visit id, a quiescence marker).
    #[derive(Debug, Clone, Copy)]
    pub struct RecordApplied;

    impl EventHandler for RecordApplied {
        async fn handle(
            &self,
            tx: &mut PgConnection,
            event: &IncomingEvent,
        ) -> Result<(), HandlerError> {
            let visit: VisitRecorded = event.decode()?;
            // A quiescence marker (`crate::quiet`): an empty event.
            if visit.visit_id.is_empty() {
                return Ok(());
            }
            let visit_id = uuid::Uuid::parse_str(&visit.visit_id)
                .map_err(|e| HandlerError::Park(anyhow::anyhow!("bad visit id: {e}")))?;
            sqlx::query("INSERT INTO applied (event_id, visit_id) VALUES ($1, $2)")
                .bind(event.envelope.id)
                .bind(visit_id)
                .execute(tx)
                .await?;
            Ok(())
        }
    }

    /// A test consumer service: its own schema in `database`, its own queues.
    pub struct TestConsumer {
        /// Queue prefix (service name) of this consumer.
        pub service: String,
        /// Pool on the consumer's schema.
        pub pool: sqlx::PgPool,
    }

    impl TestConsumer {
        /// Connects, migrates and returns the consumer ready to run.
        pub async fn new(database: &str) -> (Self, Consumer<RecordApplied>) {
            let service = crate::unique_name("zft");
            let pool = zoufang_core::db::connect_and_migrate(
                &format!("{}/{database}", crate::pg_server()),
                "testconsumer",
                4,
                &MIGRATOR,
            )
            .await
            .expect("consumer database");
            let topology = ConsumerTopology {
                service: service.clone(),
                bindings: vec![zoufang_proto::catalogue::registry::VISIT_RECORDED.into()],
                retry_delays: retry_delays(),
            };
            // Declare the queues now, so nothing published from here on is missed.
            let conn = zoufang_bus::connect(&crate::amqp_url(), "test-declare")
                .await
                .expect("amqp");
            let ch = conn.create_channel().await.expect("channel");
            zoufang_bus::topology::declare_consumer(&ch, &topology)
                .await
                .expect("declare");
            let _ = conn.close(200, "declared".into()).await;
            let consumer = Consumer::new(pool.clone(), &crate::amqp_url(), topology, RecordApplied);
            (Self { service, pool }, consumer)
        }

        /// How many times the visit was applied.
        pub async fn applied(&self, visit_id: &str) -> i64 {
            sqlx::query_scalar("SELECT count(*) FROM applied WHERE visit_id = $1::uuid")
                .bind(visit_id)
                .fetch_one(&self.pool)
                .await
                .expect("count applied")
        }

        /// Visit ids in the order they were applied.
        pub async fn applied_order(&self) -> Vec<String> {
            sqlx::query_scalar("SELECT visit_id::text FROM applied ORDER BY seq")
                .fetch_all(&self.pool)
                .await
                .expect("applied order")
        }

        /// Deletes this consumer's queues from the broker.
        pub async fn delete_queues(&self) {
            crate::delete_consumer_queues(&self.service, &retry_delays()).await;
        }
    }
}

/// A raw queue on the events exchange, to see exactly what was published.
///
/// A tap never fails quietly: if its consumer stops (the queue was deleted,
/// the connection or channel closed) or a message is not an event, the next
/// read panics, so "the tap saw nothing" cannot pass with a broken tap. To
/// assert that nothing (more) was published, first let the publishers
/// settle ([`crate::quiet`]), then [`Tap::drain`].
pub mod tap {
    use std::time::Duration;

    use futures::StreamExt;
    use lapin::{
        BasicProperties, Connection,
        options::{
            BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, QueueBindOptions,
            QueueDeclareOptions,
        },
        types::{AMQPValue, FieldTable},
    };
    use zoufang_bus::{EVENTS_EXCHANGE, Envelope, topology::declare_exchanges};

    /// The header that marks a tap's own marker message ([`Tap::drain`]).
    const MARKER_HEADER: &str = "x-zoufang-tap-marker";

    /// An exclusive, auto-deleted queue bound to one routing key.
    pub struct Tap {
        conn: Connection,
        queue: String,
        consumer: lapin::Consumer,
    }

    /// A message seen on the tap.
    #[derive(Debug, Clone)]
    pub struct Seen {
        /// Its envelope.
        pub envelope: Envelope,
        /// Its payload.
        pub payload: Vec<u8>,
    }

    /// What one read of the tap gave.
    enum Read {
        Event(Seen),
        Marker(String),
        TimedOut,
    }

    impl Tap {
        /// Binds a new tap to `routing_key`.
        pub async fn bind(routing_key: &str) -> Self {
            let conn = zoufang_bus::connect(&crate::amqp_url(), "test-tap")
                .await
                .expect("amqp");
            let ch = conn.create_channel().await.expect("channel");
            declare_exchanges(&ch).await.expect("exchanges");
            let q = ch
                .queue_declare(
                    "".into(),
                    QueueDeclareOptions {
                        exclusive: true,
                        auto_delete: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await
                .expect("queue");
            ch.queue_bind(
                q.name().clone(),
                EVENTS_EXCHANGE.into(),
                routing_key.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind");
            let consumer = ch
                .basic_consume(
                    q.name().clone(),
                    "tap".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .expect("consume");
            Self {
                conn,
                queue: q.name().to_string(),
                consumer,
            }
        }

        /// The tap's queue (server-named).
        pub fn queue(&self) -> &str {
            &self.queue
        }

        /// The tap's connection (its exclusive queue can be deleted only
        /// through it: the tap's own test breaks it so).
        pub fn connection(&self) -> &Connection {
            &self.conn
        }

        /// The next message until `deadline`; panics if the tap is broken.
        async fn read(&mut self, deadline: tokio::time::Instant) -> Read {
            let next = match tokio::time::timeout_at(deadline, self.consumer.next()).await {
                Err(_) => return Read::TimedOut,
                Ok(next) => next,
            };
            let d = match next {
                Some(Ok(d)) => d,
                Some(Err(e)) => panic!("tap on {}: the consumer failed: {e}", self.queue),
                None => panic!(
                    "tap on {}: the consumer stopped (queue deleted, channel or connection closed)",
                    self.queue
                ),
            };
            d.ack(BasicAckOptions::default())
                .await
                .unwrap_or_else(|e| panic!("tap on {}: ack failed: {e}", self.queue));
            let marker = d.properties.headers().as_ref().and_then(|h| {
                h.inner().get(MARKER_HEADER).map(|v| match v {
                    AMQPValue::LongString(s) => s.to_string(),
                    other => format!("{other:?}"),
                })
            });
            if let Some(marker) = marker {
                return Read::Marker(marker);
            }
            let envelope = Envelope::from_properties(&d.properties, d.routing_key.as_str())
                .unwrap_or_else(|e| panic!("tap on {}: not an event: {e}", self.queue));
            Read::Event(Seen {
                envelope,
                payload: d.data.clone(),
            })
        }

        /// Collects messages for which `keep` holds, until `count` are seen
        /// or `timeout` passes: to wait for something that is to come. Not
        /// for "nothing came": see [`Tap::drain`].
        pub async fn collect(
            &mut self,
            count: usize,
            timeout: Duration,
            keep: impl Fn(&Seen) -> bool,
        ) -> Vec<Seen> {
            let mut out = Vec::new();
            let deadline = tokio::time::Instant::now() + timeout;
            while out.len() < count {
                match self.read(deadline).await {
                    Read::TimedOut => break,
                    // Another drain's marker that outlived it.
                    Read::Marker(_) => {}
                    Read::Event(seen) => {
                        if keep(&seen) {
                            out.push(seen);
                        }
                    }
                }
            }
            out
        }

        /// Everything the tap holds now: puts a marker in its own queue
        /// and reads up to it, returning the events before it for which
        /// `keep` holds. Run it once the publishers are quiet (their
        /// outboxes drained, see [`crate::quiet`]), and what it returns is
        /// everything they published. Panics if the marker does not come
        /// back within [`crate::quiet::WITHIN`].
        pub async fn drain(&mut self, keep: impl Fn(&Seen) -> bool) -> Vec<Seen> {
            let marker = uuid::Uuid::new_v4().to_string();
            let mut headers = FieldTable::default();
            headers.insert(
                MARKER_HEADER.into(),
                AMQPValue::LongString(marker.as_str().into()),
            );
            let ch = zoufang_bus::confirm_channel(&self.conn)
                .await
                .unwrap_or_else(|e| panic!("tap on {}: channel: {e}", self.queue));
            let confirm = ch
                .basic_publish(
                    "".into(),
                    self.queue.as_str().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    b"",
                    BasicProperties::default().with_headers(headers),
                )
                .await
                .unwrap_or_else(|e| panic!("tap on {}: publish the marker: {e}", self.queue))
                .await
                .unwrap_or_else(|e| panic!("tap on {}: confirm the marker: {e}", self.queue));
            assert!(
                confirm.is_ack() && confirm.take_message().is_none(),
                "tap on {}: the broker did not take the marker (queue gone?)",
                self.queue
            );
            let _ = ch.close(200, "marker".into()).await;
            let deadline = tokio::time::Instant::now() + crate::quiet::WITHIN;
            let mut out = Vec::new();
            loop {
                match self.read(deadline).await {
                    Read::TimedOut => panic!(
                        "tap on {}: its own marker did not come back within {:?}",
                        self.queue,
                        crate::quiet::WITHIN
                    ),
                    Read::Marker(m) if m == marker => return out,
                    Read::Marker(_) => {}
                    Read::Event(seen) => {
                        if keep(&seen) {
                            out.push(seen);
                        }
                    }
                }
            }
        }
    }
}

// After `launch!`, so the module can use it.
pub mod notify;
pub use notify::{Notify, TestNotify};
pub mod gateway;
pub mod petition;
pub use petition::{FakePetitionSystem, TestPetition};
pub mod faults;
pub mod procs;
pub mod quiet;
