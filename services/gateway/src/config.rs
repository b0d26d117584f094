//! The gateway's configuration: where it listens, where the services are,
//! token lifetimes and the lock-out policy, plus the common settings.
use std::net::{IpAddr, SocketAddr};

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
    /// Sign-in attempts that failed from one client address within
    /// SIGN_IN_ADDRESS_WINDOW_MINUTES before it is refused (429).
    #[arg(long, env = "SIGN_IN_ADDRESS_LIMIT", default_value_t = 30)]
    pub sign_in_address_limit: i32,
    /// The window of SIGN_IN_ADDRESS_LIMIT.
    #[arg(long, env = "SIGN_IN_ADDRESS_WINDOW_MINUTES", default_value_t = 15)]
    pub sign_in_address_window_minutes: i64,
    /// Proxies whose X-Forwarded-For names the client (comma-separated IP
    /// addresses); none by default, so the socket's peer is the client.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,
    /// Password hashes computed at once (each takes ~19 MiB); 0 = one per core.
    #[arg(long, env = "HASHING_CONCURRENCY", default_value_t = 0)]
    pub hashing_concurrency: usize,
    /// How long a sign-in waits for a hashing slot before answering 503.
    #[arg(long, env = "HASHING_WAIT_MS", default_value_t = 5000)]
    pub hashing_wait_ms: u64,
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
        if self.sign_in_address_limit < 1 {
            return Err("SIGN_IN_ADDRESS_LIMIT must be at least 1".into());
        }
        if self.sign_in_address_window_minutes < 1 {
            return Err("SIGN_IN_ADDRESS_WINDOW_MINUTES must be at least 1".into());
        }
        Ok(())
    }
}
