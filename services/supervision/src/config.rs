//! The supervision service's configuration: its listen address plus the common settings.
use std::net::SocketAddr;

use zoufang_runtime::config::CommonConfig;

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
    #[command(flatten)]
    pub common: CommonConfig,
}
