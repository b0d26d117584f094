//! The registry's configuration: its listen address plus the common settings.
use std::net::SocketAddr;

use zoufang_core::config::CommonConfig;

/// The visit registry service (走访登记): regions, households, cadres,
/// campaigns, assignments, visits and progress, over gRPC.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "registry", version)]
pub struct Config {
    /// gRPC listen address.
    #[arg(long, env = "GRPC_ADDR", default_value = "127.0.0.1:50051")]
    pub grpc_addr: SocketAddr,
    /// Name of this service's queues (`<name>.events`, `.retry.*`, `.parking`).
    #[arg(long, env = "CONSUMER_QUEUE", default_value = "registry")]
    pub consumer_queue: String,
    #[command(flatten)]
    pub common: CommonConfig,
}
