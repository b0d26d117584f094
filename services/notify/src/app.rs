//! Wiring: the shared service base (listeners, migrated schema, relay,
//! auth), the consumer of the events that concern people, the inbox
//! listener, the dispatcher, and the gRPC service.
use std::{sync::Arc, time::Duration};

use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;
use tonic::service::{Routes, interceptor::InterceptedService};
use zoufang_bus::consumer::Ordering;
use zoufang_core::{clock::Clock, pii::PiiCipher};
use zoufang_proto::notify::v1::notify_service_server::NotifyServiceServer;
use zoufang_service::server::Base;

use crate::{
    SCHEMA, SERVICE_NAME,
    channels::Sender,
    config::Config,
    dispatch,
    events::NotifyEvents,
    grpc::NotifyGrpc,
    inputs, listen,
    ops::{Settings, SmsProvider, State},
};

/// Embedded migrations of the notify schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// New-inbox signals buffered per stream before a slow client misses some.
const INBOX_BUFFER: usize = 1024;

/// A built, not yet running, notification service.
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

    /// The operations state (tests run a dispatch round directly).
    pub fn state(&self) -> State {
        self.state.clone()
    }
}

impl zoufang_service::Service for Application {
    type Config = Config;
    const NAME: &'static str = "notify";

    fn common(config: &Config) -> &zoufang_core::config::CommonConfig {
        &config.common
    }

    fn validate(config: &Config) -> Result<(), String> {
        config.validate()
    }

    fn warnings(config: &Config) -> Vec<String> {
        let mut w: Vec<String> = config
            .common
            .warnings()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if config.sms_provider_url.is_none() {
            w.push("SMS_PROVIDER_URL is unset: no SMS will be sent".to_owned());
        }
        w
    }

    async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let base = Base::start(config.grpc_addr, &config.common, SCHEMA, &MIGRATOR).await?;
        let settings = Settings {
            link_base_url: config.link_base_url.clone(),
            sms: config.sms_provider_url.clone().map(|url| SmsProvider {
                url,
                token: config.sms_provider_token.clone(),
                sign_name: config.sms_sign_name.clone(),
            }),
            retry: config.retry_policy(),
            escalation_step: Duration::from_secs(config.escalation_step_secs),
            digest_hour: config.digest_hour,
            dispatch_interval: Duration::from_millis(config.dispatch_interval_ms),
        };
        let state = State {
            pool: base.pool(),
            pii: Arc::new(PiiCipher::new(
                &config.common.pii().map_err(anyhow::Error::msg)?,
            )),
            clock,
            settings: Arc::new(settings),
            sender: Sender::new(
                Duration::from_secs(config.delivery_timeout_secs),
                zoufang_core::outbound::OutboundPolicy::new(&config.outbound_allow)
                    .map_err(anyhow::Error::msg)?,
            )?,
            inbox: broadcast::channel(INBOX_BUFFER).0,
            wake: Arc::new(Notify::new()),
            shutdown: base.shutdown_token(),
            revoked: base.revoked_sessions(),
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
        // One issue's events in order (assigned before resolved); different
        // issues in parallel.
        let consumer = base
            .consumer(
                &config.consumer_queue,
                &inputs().keys(),
                NotifyEvents {
                    state: state.clone(),
                },
            )
            .with_lanes(8, Ordering::Subject);
        let (listener_state, dispatch_state) = (state.clone(), state.clone());
        base.serve(
            &[SERVICE_NAME],
            |host, shutdown| {
                host.spawn(consumer.run(shutdown.clone()));
                host.spawn(listen::run(listener_state, shutdown.clone()));
                host.spawn(dispatch::run(dispatch_state, shutdown));
            },
            |auth| {
                Routes::new(InterceptedService::new(
                    NotifyServiceServer::new(NotifyGrpc::new(state)),
                    auth,
                ))
            },
        )
        .await
    }
}
