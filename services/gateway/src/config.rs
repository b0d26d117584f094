//! The gateway's configuration: where it listens, where the services are,
//! token lifetimes and the lock-out policy, plus the common settings.
use std::net::SocketAddr;

use zoufang_runtime::config::CommonConfig;

/// The HTTP gateway.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "gateway", version)]
pub struct Config {
    /// HTTP listen address.
    #[arg(long, env = "HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// The registry's gRPC endpoint.
    #[arg(long, env = "REGISTRY_URL", default_value = "http://127.0.0.1:50051")]
    pub registry_url: String,
    /// The ledger's gRPC endpoint.
    #[arg(long, env = "ISSUES_URL", default_value = "http://127.0.0.1:50052")]
    pub issues_url: String,
    /// The supervision service's gRPC endpoint.
    #[arg(
        long,
        env = "SUPERVISION_URL",
        default_value = "http://127.0.0.1:50053"
    )]
    pub supervision_url: String,
    /// The notification service's gRPC endpoint.
    #[arg(long, env = "NOTIFY_URL", default_value = "http://127.0.0.1:50054")]
    pub notify_url: String,
    /// The petition bridge's gRPC endpoint.
    #[arg(long, env = "PETITION_URL", default_value = "http://127.0.0.1:50055")]
    pub petition_url: String,
    /// Lifetime of an access token.
    #[arg(long, env = "ACCESS_TOKEN_SECS", default_value_t = 1800)]
    pub access_token_secs: i64,
    /// Lifetime of a session (its refresh token) without use.
    #[arg(long, env = "REFRESH_TOKEN_DAYS", default_value_t = 14)]
    pub refresh_token_days: i64,
    /// Failed sign-ins in a row that lock an account.
    #[arg(long, env = "LOCKOUT_THRESHOLD", default_value_t = 5)]
    pub lockout_threshold: i32,
    /// How long a locked account stays locked.
    #[arg(long, env = "LOCKOUT_MINUTES", default_value_t = 15)]
    pub lockout_minutes: i64,
    /// Days an import job and its error report (which quotes rows of the
    /// file) are kept after the job was last touched.
    #[arg(long, env = "IMPORT_RETENTION_DAYS", default_value_t = 30)]
    pub import_retention_days: u32,
    /// Creates the account `admin` (county admin over everything) with this
    /// password when no account exists yet; ignored afterwards.
    #[arg(long, env = "BOOTSTRAP_ADMIN_PASSWORD")]
    pub bootstrap_admin_password: Option<String>,
    #[command(flatten)]
    pub common: CommonConfig,
}

impl Config {
    /// Checks what clap cannot.
    pub fn validate(&self) -> Result<(), String> {
        self.common.validate()?;
        if self.access_token_secs < 60 {
            return Err("ACCESS_TOKEN_SECS must be at least 60".into());
        }
        if self.lockout_threshold < 1 {
            return Err("LOCKOUT_THRESHOLD must be at least 1".into());
        }
        if self.import_retention_days < 1 {
            return Err("IMPORT_RETENTION_DAYS must be at least 1".into());
        }
        Ok(())
    }
}
