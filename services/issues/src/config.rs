//! The ledger's configuration: its listen address plus the common settings.
use std::net::SocketAddr;

use zoufang_core::config::CommonConfig;

/// The issue ledger service (民情台账): items raised on visits, walk-in
/// reception and hotlines, their life to a verified fix, SLA sweeps and statistics, over gRPC.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "issues", version)]
pub struct Config {
    /// gRPC listen address.
    #[arg(long, env = "GRPC_ADDR", default_value = "127.0.0.1:50052")]
    pub grpc_addr: SocketAddr,
    /// Seconds between deadline sweeps (due-soon and overdue events).
    #[arg(long, env = "SWEEP_INTERVAL_SECS", default_value_t = 60)]
    pub sweep_interval_secs: u64,
    /// Hours before a deadline when the due-soon event fires.
    #[arg(long, env = "DUE_SOON_HOURS", default_value_t = 24)]
    pub due_soon_hours: i64,
    /// Reopenings after which an item escalates one level up by itself.
    #[arg(long, env = "MAX_RECTIFICATION_LOOPS", default_value_t = 2)]
    pub max_rectification_loops: i32,
    /// Name of this service's queues (`<name>.events`, `.retry.*`, `.parking`).
    #[arg(long, env = "CONSUMER_QUEUE", default_value = "issues")]
    pub consumer_queue: String,
    #[command(flatten)]
    pub common: CommonConfig,
}
