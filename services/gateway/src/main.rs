//! `gateway`: the HTTP+JSON gateway. See `--help`.
use zoufang_core::{config, telemetry};
use zoufang_gateway::{app::Application, config::Config};
use zoufang_service::server::shutdown_signal;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config: Config = config::parse(Config::validate);
    let _telemetry = telemetry::init("gateway", config.common.otlp_endpoint.as_deref())?;
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
