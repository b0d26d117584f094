//! The gateway's configuration: where it listens, where the services are,
//! the signing key, the service clients of the token exchange, token
//! lifetimes, the lock-out policy and the sign-in throttle, plus the common
//! settings.
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
};

use zoufang_core::{auth::JwtKeys, config::CommonConfig};

use crate::door::exchange::ServiceClients;

/// Longest access token the gateway issues: revocation reaches a service
/// that cannot ask the gateway at the latest when the token expires.
pub const MAX_ACCESS_TOKEN_SECS: i64 = 300;

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
    /// Lifetime of an access token (60–300 seconds; refresh for more).
    #[arg(long, env = "ACCESS_TOKEN_SECS", default_value_t = 300)]
    pub access_token_secs: i64,
    /// Lifetime of a session (its refresh token) without use.
    #[arg(long, env = "REFRESH_TOKEN_DAYS", default_value_t = 14)]
    pub refresh_token_days: i64,
    /// Absolute lifetime of a session: after this many days since sign-in a
    /// refresh fails however often it was used, and the person signs in again.
    #[arg(long, env = "SESSION_MAX_DAYS", default_value_t = 30)]
    pub session_max_days: i64,
    /// The ES256 private key (PKCS#8 PEM, `BEGIN PRIVATE KEY`) that signs
    /// every token; only the gateway holds it.
    #[arg(
        long,
        env = "ZF_JWT_PRIVATE_KEY",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub jwt_private_key: Option<String>,
    /// A file holding `ZF_JWT_PRIVATE_KEY` (e.g. a mounted secret).
    #[arg(long, env = "ZF_JWT_PRIVATE_KEY_FILE")]
    pub jwt_private_key_file: Option<PathBuf>,
    /// The services that may use the token exchange, as
    /// `client=sha256hex,…` (the SHA-256 of each client's ZF_SERVICE_SECRET;
    /// clients: supervision, petition).
    #[arg(long, env = "ZF_SERVICE_CLIENTS", hide_env_values = true)]
    pub service_clients: Option<String>,
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
    /// password when no account exists yet; ignored afterwards. It must pass
    /// the password policy, and the account must change it at first sign-in.
    #[arg(long, env = "BOOTSTRAP_ADMIN_PASSWORD")]
    pub bootstrap_admin_password: Option<String>,
    #[command(flatten)]
    pub common: CommonConfig,
}

impl Config {
    /// Checks what clap cannot.
    pub fn validate(&self) -> Result<(), String> {
        self.common.validate()?;
        self.signing_keys()?;
        self.clients()?;
        if !(60..=MAX_ACCESS_TOKEN_SECS).contains(&self.access_token_secs) {
            return Err(format!(
                "ACCESS_TOKEN_SECS must be between 60 and {MAX_ACCESS_TOKEN_SECS}"
            ));
        }
        if let Some(pw) = &self.bootstrap_admin_password {
            crate::door::accounts::password::check_policy("BOOTSTRAP_ADMIN_PASSWORD", pw)
                .map_err(|e| e.message)?;
        }
        if self.session_max_days < 1 {
            return Err("SESSION_MAX_DAYS must be at least 1".into());
        }
        if self.lockout_threshold < 1 {
            return Err("LOCKOUT_THRESHOLD must be at least 1".into());
        }
        if self.import_retention_days < 1 {
            return Err("IMPORT_RETENTION_DAYS must be at least 1".into());
        }
        if self.sign_in_address_limit < 1 {
            return Err("SIGN_IN_ADDRESS_LIMIT must be at least 1".into());
        }
        if self.sign_in_address_window_minutes < 1 {
            return Err("SIGN_IN_ADDRESS_WINDOW_MINUTES must be at least 1".into());
        }
        Ok(())
    }

    /// The keys that sign and verify (ZF_JWT_PRIVATE_KEY and ZF_JWT_PUBLIC_KEY,
    /// or the development pair in dev mode).
    pub fn signing_keys(&self) -> Result<JwtKeys, String> {
        let private = zoufang_core::config::secret(
            "ZF_JWT_PRIVATE_KEY",
            self.jwt_private_key.as_deref(),
            self.jwt_private_key_file.as_ref(),
        )?;
        self.common.signing_keys(private)
    }

    /// The token exchange's clients (ZF_SERVICE_CLIENTS, or the development
    /// secrets in dev mode).
    pub fn clients(&self) -> Result<ServiceClients, String> {
        match self
            .service_clients
            .as_deref()
            .filter(|v| !v.trim().is_empty())
        {
            Some(v) => ServiceClients::parse(v),
            None if self.common.dev_mode => Ok(ServiceClients::development()),
            None => Err(
                "ZF_SERVICE_CLIENTS is not set. Set it (production), or set \
                 ZF_DEV_MODE=1 to run with the PUBLISHED development keys (never in production)"
                    .into(),
            ),
        }
    }
}
