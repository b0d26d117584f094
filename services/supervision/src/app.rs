//! Wiring: binds the listeners first (so tests can start on port 0 and ask
//! for the port), connects and migrates the database, starts the outbox
//! relay, and serves until the shutdown token is cancelled.
use std::{sync::Arc, time::Duration};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::{Routes, interceptor::InterceptedService};
use zoufang_proto::supervision::v1::supervision_service_server::SupervisionServiceServer;
use zoufang_runtime::{
    auth::{AuthInterceptor, JwtKeys},
    bus::topology::ConsumerTopology,
    consumer::{Consumer, Ordering, default_retry_delays},
    db,
    outbox::{OutboxRelay, RelayConfig},
    server::{self, Host},
};

use crate::{
    SCHEMA, SERVICE_NAME, config::Config, events::SupervisionEvents, grpc::SupervisionGrpc, inputs,
    ops::State,
};

/// Embedded migrations of the supervision schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A built, not yet running, supervision service.
#[derive(Debug)]
pub struct Application {
    grpc: TcpListener,
    admin: TcpListener,
    state: State,
    config: Config,
    shutdown: CancellationToken,
}

impl Application {
    /// Binds, connects and migrates; fails with a clear reason.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let grpc = server::bind(config.grpc_addr).await?;
        let admin_addr = config.common.admin_addr_for(grpc.local_addr()?);
        let admin = server::bind(admin_addr).await?;
        let pool = db::connect_and_migrate(
            &config.common.database_url,
            SCHEMA,
            config.common.db_max_connections,
            &MIGRATOR,
        )
        .await?;
        Ok(Self {
            grpc,
            admin,
            state: State {
                pool,
                registry: tonic::transport::Channel::from_shared(config.registry_url.clone())?
                    .connect_lazy(),
                keys: Arc::new(JwtKeys::hs256(config.common.jwt_secret.as_bytes())?),
            },
            config,
            shutdown: CancellationToken::new(),
        })
    }

    /// The port gRPC listens on (useful with port 0).
    pub fn grpc_port(&self) -> u16 {
        self.grpc.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// The port of /healthz, /readyz and /metrics.
    pub fn admin_port(&self) -> u16 {
        self.admin
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// Cancel it to stop the service gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// The database pool (tests inspect what was written).
    pub fn pool(&self) -> sqlx::PgPool {
        self.state.pool.clone()
    }

    /// Serves until the shutdown token is cancelled.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            grpc,
            admin,
            state,
            config,
            shutdown,
        } = self;
        tracing::info!(grpc = %grpc.local_addr()?, admin = %admin.local_addr()?, "supervision listening");
        let mut host = Host::new(
            shutdown.clone(),
            Duration::from_secs(config.common.shutdown_grace_secs),
        );
        let relay = OutboxRelay::new(
            state.pool.clone(),
            &config.common.amqp_url,
            RelayConfig::for_service(SCHEMA),
        );
        host.spawn(relay.run(shutdown.clone()));
        let topology = ConsumerTopology {
            service: config.consumer_queue.clone(),
            bindings: vec![
                inputs::VISIT_RECORDED.into(),
                inputs::ISSUE_RESOLVED.into(),
                inputs::ISSUE_EXPLAINED.into(),
                inputs::ISSUE_OVERDUE.into(),
            ],
            retry_delays: default_retry_delays(),
        };
        let events = SupervisionEvents {
            state: state.clone(),
        };
        let consumer = Consumer::new(
            state.pool.clone(),
            &config.common.amqp_url,
            topology,
            events,
        );
        // A county's events in order: a visit's fabrication signals are read
        // against the same cadre's earlier visits, which must be stored first.
        let consumer = consumer.with_lanes(8, Ordering::County);
        host.spawn(consumer.run(shutdown.clone()));

        let keys = Arc::new(JwtKeys::hs256(config.common.jwt_secret.as_bytes())?);
        let pool = state.pool.clone();
        let service = InterceptedService::new(
            SupervisionServiceServer::new(SupervisionGrpc::new(state)),
            AuthInterceptor { keys },
        );
        let routes = Routes::new(service);
        host.serve(grpc, admin, routes, &[SERVICE_NAME], pool).await
    }
}
