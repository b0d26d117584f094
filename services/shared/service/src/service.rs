//! What every Zoufang binary's `main` does, once: parse the configuration
//! (exit 64 on a bad value), start telemetry, log the development-default
//! warnings, build the service, stop it gracefully on SIGINT/SIGTERM.
//! Each service implements [`Service`] on its `Application`; its `main.rs`
//! is one call to [`main`].
use std::future::Future;

use tokio_util::sync::CancellationToken;
use zoufang_core::{clock::Clock, config, config::CommonConfig, telemetry};

use crate::server::shutdown_signal;

/// A service as its binary and the tests start it.
pub trait Service: Sized + Send + 'static {
    /// Its configuration, from flags and environment.
    type Config: clap::Parser + Send;

    /// The name in logs, traces and metrics (`registry`, `issues`, …).
    const NAME: &'static str;

    /// The settings every service shares, inside its configuration.
    fn common(config: &Self::Config) -> &CommonConfig;

    /// Checks what clap cannot; the binary exits 64 with the reason.
    fn validate(config: &Self::Config) -> Result<(), String> {
        Self::common(config).validate()
    }

    /// Warnings logged at start, for settings that must not reach
    /// production or that switch a feature off.
    fn warnings(config: &Self::Config) -> Vec<String> {
        Self::common(config)
            .warnings()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// Binds, connects and migrates, reading time from `clock` (tests move
    /// it); fails with a clear reason.
    fn build_with_clock(
        config: Self::Config,
        clock: Clock,
    ) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// [`Service::build_with_clock`] on the system clock, as the binary runs.
    fn build(config: Self::Config) -> impl Future<Output = anyhow::Result<Self>> + Send {
        Self::build_with_clock(config, Clock::system())
    }

    /// Cancel it to stop the service gracefully.
    fn shutdown_token(&self) -> CancellationToken;

    /// Serves until the shutdown token is cancelled.
    fn run_until_stopped(self) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// The whole of a service binary's `main`.
pub async fn main<S: Service>() -> anyhow::Result<()> {
    let config: S::Config = config::parse(S::validate);
    let _telemetry = telemetry::init(S::NAME, S::common(&config).otlp_endpoint.as_deref())?;
    for warning in S::warnings(&config) {
        tracing::warn!("{warning}");
    }
    let app = S::build(config).await?;
    let shutdown = app.shutdown_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        shutdown.cancel();
    });
    app.run_until_stopped().await
}
