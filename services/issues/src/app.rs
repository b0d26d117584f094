//! Wiring: the shared service base (listeners, migrated schema, relay,
//! auth), the consumer of visits, callback outcomes and petition cases, the
//! deadline sweeper, and the gRPC service.
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tonic::service::{Routes, interceptor::InterceptedService};
use zoufang_bus::consumer::Ordering;
use zoufang_core::clock::Clock;
use zoufang_proto::issues::v1::issue_service_server::IssueServiceServer;
use zoufang_service::server::Base;

use crate::{
    SCHEMA, SERVICE_NAME,
    config::Config,
    events::LedgerEvents,
    grpc::IssueGrpc,
    inputs,
    ops::{Settings, State, sweep},
};

/// Embedded migrations of the ledger schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A built, not yet running, ledger service.
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
    const NAME: &'static str = "issues";

    fn common(config: &Config) -> &zoufang_core::config::CommonConfig {
        &config.common
    }

    async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let base = Base::start(config.grpc_addr, &config.common, SCHEMA, &MIGRATOR).await?;
        let settings = Settings {
            due_soon: chrono::Duration::hours(config.due_soon_hours.max(1)),
            max_loops: config.max_rectification_loops.max(1),
        };
        let state = State {
            pool: base.pool(),
            settings,
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
        // Each visit, issue and petition case is its own subject: their
        // events stay in order, while different ones are applied side by side.
        let consumer = base
            .consumer(
                &config.consumer_queue,
                &inputs().keys(),
                LedgerEvents {
                    state: state.clone(),
                },
            )
            .with_lanes(8, Ordering::Subject);
        let sweeper = sweep::run(
            state.clone(),
            Duration::from_secs(config.sweep_interval_secs.max(1)),
            base.shutdown_token(),
        );
        base.serve(
            &[SERVICE_NAME],
            |host, shutdown| {
                host.spawn(consumer.run(shutdown));
                host.spawn(sweeper);
            },
            |auth| {
                Routes::new(InterceptedService::new(
                    IssueServiceServer::new(IssueGrpc::new(state)),
                    auth,
                ))
            },
        )
        .await
    }
}
