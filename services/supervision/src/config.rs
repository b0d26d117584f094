//! The supervision service's configuration: its listen address plus the common settings.
use std::{net::SocketAddr, path::PathBuf};

use zoufang_core::{
    auth::exchange::{TokenExchange, dev_service_secret},
    config::{CommonConfig, secret},
};

/// This service's client id at the token exchange.
pub const CLIENT_ID: &str = "supervision";

/// The supervision callbacks service (督查回访): samples resolved items and
/// recorded visits for callbacks, and turns their outcomes into events.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "supervision", version)]
pub struct Config {
    /// gRPC listen address.
    #[arg(long, env = "GRPC_ADDR", default_value = "127.0.0.1:50053")]
    pub grpc_addr: SocketAddr,
    /// The registry's gRPC endpoint (household phone numbers come from there).
    #[arg(long, env = "REGISTRY_URL", default_value = "http://127.0.0.1:50051")]
    pub registry_url: String,
    /// Seconds between sweeps for open callbacks past their due time
    /// (`supervision.callback.overdue`, once per task).
    #[arg(long, env = "SWEEP_INTERVAL_SECS", default_value_t = 60)]
    pub sweep_interval_secs: u64,
    /// Name of this service's queues (`<name>.events`, `.retry.*`, `.parking`).
    #[arg(long, env = "CONSUMER_QUEUE", default_value = "supervision")]
    pub consumer_queue: String,
    /// The gateway's token exchange (on its admin listener, private network):
    /// supervision reads a phone or a cadre list on a person's behalf with a
    /// token issued there for that purpose.
    #[arg(
        long,
        env = "TOKEN_EXCHANGE_URL",
        default_value = "http://127.0.0.1:9080/internal/token"
    )]
    pub token_exchange_url: String,
    /// This service's secret at the token exchange (the gateway holds its
    /// SHA-256 in ZF_SERVICE_CLIENTS).
    #[arg(long, env = "ZF_SERVICE_SECRET", hide_env_values = true)]
    pub service_secret: Option<String>,
    /// A file holding `ZF_SERVICE_SECRET`.
    #[arg(long, env = "ZF_SERVICE_SECRET_FILE")]
    pub service_secret_file: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonConfig,
}

impl Config {
    /// Checks what clap cannot.
    pub fn validate(&self) -> Result<(), String> {
        self.common.validate()?;
        self.exchange().map(|_| ())
    }

    /// The token exchange client with this service's secret (the published
    /// development one in dev mode when unset).
    pub fn exchange(&self) -> Result<TokenExchange, String> {
        let given = secret(
            "ZF_SERVICE_SECRET",
            self.service_secret.as_deref(),
            self.service_secret_file.as_ref(),
        )?;
        let secret =
            self.common
                .or_dev("ZF_SERVICE_SECRET", given, &dev_service_secret(CLIENT_ID))?;
        TokenExchange::new(&self.token_exchange_url, CLIENT_ID, secret.trim())
            .map_err(|e| format!("{e:#}"))
    }
}
