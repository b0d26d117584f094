//! `supervision`: the supervision callbacks service (督查回访). See `--help`.
use zoufang_core::{config, telemetry};
use zoufang_service::server::shutdown_signal;
use zoufang_supervision::{app::Application, config::Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config: Config = config::parse(Config::validate);
    let _telemetry = telemetry::init("supervision", config.common.otlp_endpoint.as_deref())?;
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
