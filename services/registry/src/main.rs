//! `registry`: the visit registry service (走访登记). See `--help`.
use zoufang_core::{config, telemetry};
use zoufang_registry::{app::Application, config::Config};
use zoufang_service::server::shutdown_signal;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config: Config = config::parse(|c: &Config| c.common.validate());
    let _telemetry = telemetry::init("registry", config.common.otlp_endpoint.as_deref())?;
    for warning in config.common.warnings() {
        tracing::warn!("{warning}");
    }
    let app = Application::build(config).await?;
    let shutdown = app.shutdown_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        shutdown.cancel();
    });
    app.run_until_stopped().await
}
