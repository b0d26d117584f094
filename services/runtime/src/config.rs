//! Configuration shared by every service, read from environment variables
//! (with `--flag` equivalents) with defaults that work on a developer machine.
//!
//! Each service flattens [`CommonConfig`] into its own clap `Parser` that adds
//! its listen address; [`parse`] turns a bad configuration into a clear
//! message and exit code 64 (EX_USAGE), as operators' scripts expect.
use std::net::SocketAddr;

use clap::Parser;

use crate::{auth::DEV_JWT_SECRET, pii::DEV_PII_KEY_HEX};

/// Default PostgreSQL URL (DESIGN.md §3).
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/zoufang";
/// Default RabbitMQ URL (DESIGN.md §3).
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// The default pool size of each process. The stack's six processes that
/// hold a pool (registry, issues, supervision, notify, petition, gateway)
/// then use at most 36 connections, inside the budget of 40 that leaves
/// PostgreSQL's default `max_connections = 100` room for a second stack or a
/// test run; a 2-core server runs no more than a few statements at once
/// anyway. Each pool also holds its LISTEN connections (one or two).
pub const DEFAULT_DB_MAX_CONNECTIONS: u32 = 6;

/// Processes of one stack that hold a database pool.
pub const STACK_POOLS: u32 = 6;

/// The connections one stack may use at most with default settings.
pub const STACK_CONNECTION_BUDGET: u32 = 40;

// Checked when compiling, too.
const _: () = assert!(STACK_POOLS * DEFAULT_DB_MAX_CONNECTIONS <= STACK_CONNECTION_BUDGET);

/// Settings every service reads.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonConfig {
    /// PostgreSQL URL. The service creates the database if missing and its own schema.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Largest number of pooled PostgreSQL connections (see [`DEFAULT_DB_MAX_CONNECTIONS`]).
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = DEFAULT_DB_MAX_CONNECTIONS)]
    pub db_max_connections: u32,
    /// RabbitMQ URL.
    #[arg(long, env = "AMQP_URL", default_value = DEFAULT_AMQP_URL)]
    pub amqp_url: String,
    /// HS256 secret that signs bearer tokens (a development default exists, with a warning).
    #[arg(long, env = "ZF_JWT_SECRET", default_value = DEV_JWT_SECRET, hide_default_value = true, hide_env_values = true)]
    pub jwt_secret: String,
    /// 64 hex digits: the key that encrypts and hashes personal data at rest.
    #[arg(long, env = "ZF_PII_KEY", default_value = DEV_PII_KEY_HEX, hide_default_value = true, hide_env_values = true)]
    pub pii_key: String,
    /// OTLP gRPC endpoint for traces (e.g. http://127.0.0.1:4317); no export when unset.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// HTTP address of /healthz, /readyz and /metrics; default is the gRPC port + 1000.
    #[arg(long, env = "ADMIN_ADDR")]
    pub admin_addr: Option<SocketAddr>,
    /// Seconds to wait for in-flight work on SIGTERM/SIGINT before stopping anyway.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
    /// Days a published event stays in the outbox before it is deleted.
    #[arg(long, env = "OUTBOX_RETENTION_DAYS", default_value_t = 7)]
    pub outbox_retention_days: u32,
    /// Days an applied event's id stays in the inbox (the window in which a
    /// redelivered copy is recognised); at least 1.
    #[arg(long, env = "INBOX_RETENTION_DAYS", default_value_t = 30)]
    pub inbox_retention_days: u32,
}

impl CommonConfig {
    /// The retention of the outbox and the inbox.
    pub fn retention(&self) -> crate::retention::RetentionConfig {
        crate::retention::RetentionConfig::days(
            self.outbox_retention_days,
            self.inbox_retention_days,
        )
    }

    /// Checks values clap cannot: the key formats and the database URL.
    pub fn validate(&self) -> Result<(), String> {
        crate::pii::PiiKey::from_hex(&self.pii_key).map_err(|e| format!("{e:#}"))?;
        self.retention().validate()?;
        if self.jwt_secret.len() < 16 {
            return Err("ZF_JWT_SECRET must be at least 16 bytes long".into());
        }
        if !self.database_url.starts_with("postgres://")
            && !self.database_url.starts_with("postgresql://")
        {
            return Err(format!(
                "DATABASE_URL must be a postgres:// URL, got {:?}",
                self.database_url
            ));
        }
        if !self.amqp_url.starts_with("amqp://") && !self.amqp_url.starts_with("amqps://") {
            return Err(format!(
                "AMQP_URL must be an amqp:// URL, got {:?}",
                self.amqp_url
            ));
        }
        if self.db_max_connections == 0 {
            return Err("DB_MAX_CONNECTIONS must be at least 1".into());
        }
        Ok(())
    }

    /// The admin address: configured, or the gRPC address with port + 1000.
    pub fn admin_addr_for(&self, grpc_addr: SocketAddr) -> SocketAddr {
        self.admin_addr.unwrap_or_else(|| {
            let mut a = grpc_addr;
            a.set_port(grpc_addr.port().saturating_add(1000));
            a
        })
    }

    /// Warnings for development defaults that must not reach production.
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut w = Vec::new();
        if self.jwt_secret == DEV_JWT_SECRET {
            w.push("ZF_JWT_SECRET is the public development default: tokens can be forged. Set it in production.");
        }
        if self.pii_key.eq_ignore_ascii_case(DEV_PII_KEY_HEX) {
            w.push("ZF_PII_KEY is the public development default: personal data is NOT protected. Set it in production.");
        }
        w
    }
}

/// Parses a service's configuration from arguments and environment.
///
/// `--help` prints and exits 0; a bad value prints the reason and exits 64.
pub fn parse<T: Parser>(validate: impl FnOnce(&T) -> Result<(), String>) -> T {
    let config = match T::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 64 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    if let Err(reason) = validate(&config) {
        eprintln!("configuration error: {reason}");
        std::process::exit(64);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pools_of_a_stack_fit_the_connection_budget() {
        let default = parse_args(&[]).db_max_connections;
        assert_eq!(default, DEFAULT_DB_MAX_CONNECTIONS);
        assert!(
            STACK_POOLS * default <= STACK_CONNECTION_BUDGET,
            "{STACK_POOLS} pools of {default} exceed {STACK_CONNECTION_BUDGET}"
        );
    }

    #[derive(Debug, Parser)]
    struct TestConfig {
        #[command(flatten)]
        common: CommonConfig,
    }

    fn parse_args(args: &[&str]) -> CommonConfig {
        TestConfig::try_parse_from(std::iter::once("svc").chain(args.iter().copied()))
            .expect("parse")
            .common
    }

    #[test]
    fn defaults_validate_and_warn() {
        let c = parse_args(&[]);
        assert!(c.validate().is_ok());
        assert_eq!(c.warnings().len(), 2);
    }

    #[test]
    fn bad_pii_key_is_refused_by_name() {
        let c = parse_args(&["--pii-key", "abc"]);
        assert!(c.validate().unwrap_err().contains("ZF_PII_KEY"));
    }

    #[test]
    fn bad_urls_are_refused() {
        let c = parse_args(&["--database-url", "mysql://x"]);
        assert!(c.validate().unwrap_err().contains("DATABASE_URL"));
        let c = parse_args(&["--amqp-url", "http://x"]);
        assert!(c.validate().unwrap_err().contains("AMQP_URL"));
    }

    #[test]
    fn admin_port_defaults_to_grpc_plus_1000() {
        let c = parse_args(&[]);
        let a = c.admin_addr_for("127.0.0.1:50051".parse().unwrap());
        assert_eq!(a.port(), 51051);
    }
}
