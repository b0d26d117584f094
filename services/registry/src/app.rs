//! Wiring: the shared service base (listeners, migrated schema, relay,
//! auth), the consumer of callback outcomes, and the gRPC service.
use tokio_util::sync::CancellationToken;
use tonic::service::{Routes, interceptor::InterceptedService};
use zoufang_core::{clock::Clock, pii::PiiCipher};
use zoufang_proto::registry::v1::registry_service_server::RegistryServiceServer;
use zoufang_service::server::Base;

use crate::{SCHEMA, SERVICE_NAME, config::Config, events, grpc::RegistryGrpc, ops::State};

/// Embedded migrations of the registry schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A built, not yet running, registry.
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
    const NAME: &'static str = "registry";

    fn common(config: &Config) -> &zoufang_core::config::CommonConfig {
        &config.common
    }

    async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let base = Base::start(config.grpc_addr, &config.common, SCHEMA, &MIGRATOR).await?;
        let pii = PiiCipher::new(&config.common.pii().map_err(anyhow::Error::msg)?);
        let state = State::new(base.pool(), pii, clock);
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
        let consumer = base.consumer(
            &config.consumer_queue,
            &events::inputs().keys(),
            events::RegistryEvents,
        );
        base.serve(
            &[SERVICE_NAME],
            |host, shutdown| host.spawn(consumer.run(shutdown)),
            |auth| {
                Routes::new(InterceptedService::new(
                    RegistryServiceServer::new(RegistryGrpc::new(state)),
                    auth,
                ))
            },
        )
        .await
    }
}
