//! Wiring: the shared service base (gRPC, admin, migrated schema, outbox
//! relay, auth), the webhook listener, the AMQP door, the consumer of the
//! ledger's resolutions, the answer dispatcher, and the replay store's pruning.
use std::{sync::Arc, time::Duration};

use tokio::{net::TcpListener, sync::Notify};
use tokio_util::sync::CancellationToken;
use tonic::service::{Routes, interceptor::InterceptedService};
use zoufang_core::{clock::Clock, outbound::OutboundPolicy, pii::PiiCipher};
use zoufang_proto::petition::v1::petition_service_server::PetitionServiceServer;
use zoufang_service::server::{Base, bind};

use crate::{
    SCHEMA, SERVICE_NAME, amqp_inbound,
    config::Config,
    dispatch,
    events::PetitionEvents,
    grpc::PetitionGrpc,
    inputs,
    ops::{Settings, State, settle},
    registry::Registry,
    store, webhook,
};

/// Embedded migrations of the petition schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A built, not yet running, petition bridge.
#[derive(Debug)]
pub struct Application {
    base: Base,
    webhook: TcpListener,
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

    /// The port of the inbound webhook.
    pub fn webhook_port(&self) -> u16 {
        self.webhook
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// The database pool (tests inspect what was written).
    pub fn pool(&self) -> sqlx::PgPool {
        self.base.pool()
    }

    /// The operations state (tests run a dispatch round directly).
    pub fn state(&self) -> State {
        self.state.clone()
    }
}

async fn prune_signatures(pool: sqlx::PgPool, shutdown: CancellationToken) {
    loop {
        match store::signatures::prune(&pool, store::signatures::RETENTION_SECS).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "old webhook signatures forgotten"),
            Err(e) => tracing::warn!(error = %e, "pruning webhook signatures failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
            () = shutdown.cancelled() => break,
        }
    }
}

impl zoufang_service::Service for Application {
    type Config = Config;
    const NAME: &'static str = "petition";

    fn common(config: &Config) -> &zoufang_core::config::CommonConfig {
        &config.common
    }

    fn validate(config: &Config) -> Result<(), String> {
        config.validate()
    }

    async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Self> {
        // Also checked by `validate`; tests build from a literal config.
        crate::config::check_signature_window(config.signature_window_secs)
            .map_err(anyhow::Error::msg)?;
        let base = Base::start(config.grpc_addr, &config.common, SCHEMA, &MIGRATOR).await?;
        let webhook = bind(config.webhook_addr).await?;
        let outbound = OutboundPolicy::new(&config.outbound_allow).map_err(anyhow::Error::msg)?;
        let timeout = Duration::from_secs(config.delivery_timeout_secs);
        // Callback URLs are the sources' choice: connections go only to
        // checked addresses, redirects are not followed.
        let http = outbound
            .client_builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("zoufang-petition/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let state = State {
            pool: base.pool(),
            pii: Arc::new(PiiCipher::new(
                &config.common.pii().map_err(anyhow::Error::msg)?,
            )),
            clock,
            wall: Clock::system(),
            registry: Registry::new(
                &config.registry_url,
                Arc::new(config.exchange().map_err(anyhow::Error::msg)?),
            )?,
            settings: Arc::new(Settings {
                signature_window_secs: config.signature_window_secs,
                retry: config.retry_policy(),
                dispatch_interval: Duration::from_millis(config.dispatch_interval_ms),
            }),
            http,
            outbound,
            wake: Arc::new(Notify::new()),
            imports: Arc::default(),
        };
        Ok(Self {
            base,
            webhook,
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
            webhook,
            state,
            config,
        } = self;
        let consumer = base.consumer(
            &config.consumer_queue,
            &inputs().keys(),
            PetitionEvents {
                state: state.clone(),
            },
        );
        let door = amqp_inbound::Door {
            amqp_url: config.common.amqp_url.clone(),
            exchange: config.inbound_exchange.clone(),
            queue: config.inbound_queue.clone(),
        };
        tracing::info!(webhook = %webhook.local_addr()?, "petition webhook listening");
        let grpc_state = state.clone();
        base.serve(
            &[SERVICE_NAME],
            |host, shutdown| {
                host.spawn(consumer.run(shutdown.clone()));
                host.spawn(amqp_inbound::run(state.clone(), door, shutdown.clone()));
                host.spawn(dispatch::run(state.clone(), shutdown.clone()));
                host.spawn(dispatch::listen(state.clone(), shutdown.clone()));
                host.spawn(prune_signatures(state.pool.clone(), shutdown.clone()));
                host.spawn(settle::run(
                    state.clone(),
                    Duration::from_secs(config.settle_interval_secs),
                    shutdown.clone(),
                ));
                let router = webhook::router(state);
                host.spawn(async move {
                    if let Err(e) = axum::serve(webhook, router)
                        .with_graceful_shutdown(shutdown.cancelled_owned())
                        .await
                    {
                        tracing::error!(error = %e, "petition webhook stopped");
                    }
                });
            },
            |auth| {
                Routes::new(InterceptedService::new(
                    PetitionServiceServer::new(PetitionGrpc::new(grpc_state)),
                    auth,
                ))
            },
        )
        .await
    }
}
