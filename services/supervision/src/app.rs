//! Wiring: the shared service base (listeners, migrated schema, relay,
//! auth), the consumer of resolved items and recorded visits, the registry
//! channel, the overdue sweeper, and the gRPC service.
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tonic::service::{Routes, interceptor::InterceptedService};
use zoufang_bus::consumer::Ordering;
use zoufang_core::clock::Clock;
use zoufang_proto::supervision::v1::supervision_service_server::SupervisionServiceServer;
use zoufang_service::server::Base;

use crate::{
    SCHEMA, SERVICE_NAME,
    config::Config,
    events::SupervisionEvents,
    grpc::SupervisionGrpc,
    inputs,
    ops::{State, sweep},
};

/// Embedded migrations of the supervision schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A built, not yet running, supervision service.
#[derive(Debug)]
pub struct Application {
    base: Base,
    state: State,
    config: Config,
}

impl Application {
    /// The port gRPC listens on (useful with port 0).
    pub fn grpc_port(&self) -> u16 {
        self.base.grpc_port()
    }

    /// The port of /healthz, /readyz and /metrics.
    pub fn admin_port(&self) -> u16 {
        self.base.admin_port()
    }

    /// The database pool (tests inspect what was written).
    pub fn pool(&self) -> sqlx::PgPool {
        self.base.pool()
    }
}

impl zoufang_service::Service for Application {
    type Config = Config;
    const NAME: &'static str = "supervision";

    fn common(config: &Config) -> &zoufang_core::config::CommonConfig {
        &config.common
    }

    fn validate(config: &Config) -> Result<(), String> {
        config.validate()
    }

    async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let base = Base::start(config.grpc_addr, &config.common, SCHEMA, &MIGRATOR).await?;
        let state = State {
            pool: base.pool(),
            registry: tonic::transport::Channel::from_shared(config.registry_url.clone())?
                .connect_lazy(),
            exchange: std::sync::Arc::new(config.exchange().map_err(anyhow::Error::msg)?),
            clock,
        };
        Ok(Self {
            base,
            state,
            config,
        })
    }

    fn shutdown_token(&self) -> CancellationToken {
        self.base.shutdown_token()
    }

    async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            base,
            state,
            config,
        } = self;
        // A county's events in order: a visit's fabrication signals are read
        // against the same cadre's earlier visits, which must be stored first.
        let consumer = base
            .consumer(
                &config.consumer_queue,
                &inputs().keys(),
                SupervisionEvents {
                    state: state.clone(),
                },
            )
            .with_lanes(8, Ordering::County);
        // Open callbacks past their due time are announced once each.
        let sweep_state = state.clone();
        let sweep_every = Duration::from_secs(config.sweep_interval_secs.max(1));
        base.serve(
            &[SERVICE_NAME],
            |host, shutdown| {
                host.spawn(consumer.run(shutdown.clone()));
                host.spawn(sweep::run(sweep_state, sweep_every, shutdown));
            },
            |auth| {
                Routes::new(InterceptedService::new(
                    SupervisionServiceServer::new(SupervisionGrpc::new(state)),
                    auth,
                ))
            },
        )
        .await
    }
}
