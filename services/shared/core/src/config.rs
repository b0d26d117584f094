//! Configuration shared by every service, read from environment variables
//! (with `--flag` equivalents) with defaults that work on a developer machine
//! — except the keys: without `ZF_JWT_PUBLIC_KEY` and `ZF_PII_KEY` a service
//! refuses to start unless `ZF_DEV_MODE=1` says to use the PUBLISHED
//! development keys.
//!
//! Each service flattens [`CommonConfig`] into its own clap `Parser` that adds
//! its listen address; [`parse`] turns a bad configuration into a clear
//! message and exit code 64 (EX_USAGE), as operators' scripts expect.
use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Parser;

use crate::{
    auth::{DEV_JWT_PRIVATE_KEY_PEM, DEV_JWT_PUBLIC_KEY_PEM, JwtKeys},
    pii::{DEV_PII_KEY_HEX, PiiKey},
};

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
    /// The ES256 public key (PEM, `BEGIN PUBLIC KEY`) that verifies bearer tokens.
    #[arg(
        long,
        env = "ZF_JWT_PUBLIC_KEY",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub jwt_public_key: Option<String>,
    /// A file holding `ZF_JWT_PUBLIC_KEY` (e.g. a mounted secret).
    #[arg(long, env = "ZF_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// 64 hex digits: the key that encrypts and hashes personal data at rest.
    #[arg(long, env = "ZF_PII_KEY", hide_env_values = true)]
    pub pii_key: Option<String>,
    /// Development mode: missing keys fall back to the PUBLISHED development
    /// keys (anyone can forge tokens and read personal data). Never in production.
    #[arg(long, env = "ZF_DEV_MODE", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub dev_mode: bool,
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
    pub fn retention(&self) -> RetentionConfig {
        RetentionConfig::days(self.outbox_retention_days, self.inbox_retention_days)
    }

    /// Checks values clap cannot: the keys (present, or the development
    /// flag), their formats and the URLs.
    pub fn validate(&self) -> Result<(), String> {
        self.pii()?;
        self.verifying_keys("probe")?;
        self.retention().validate()?;
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
        if self.dev_mode {
            w.push("ZF_DEV_MODE=1: DEVELOPMENT MODE. Missing keys are replaced by the PUBLISHED development keys: anyone can forge tokens and decrypt personal data. Never run this in production.");
        }
        w
    }

    /// The PEM public key: configured, or the development one in dev mode.
    pub fn jwt_public_pem(&self) -> Result<String, String> {
        let pem = secret(
            "ZF_JWT_PUBLIC_KEY",
            self.jwt_public_key.as_deref(),
            self.jwt_public_key_file.as_ref(),
        )?;
        self.or_dev("ZF_JWT_PUBLIC_KEY", pem, DEV_JWT_PUBLIC_KEY_PEM)
    }

    /// Keys that verify tokens for every service and those meant for
    /// `service` alone (its schema name).
    pub fn verifying_keys(&self, service: &str) -> Result<JwtKeys, String> {
        let pem = self.jwt_public_pem()?;
        let keys = JwtKeys::from_pem_es256(None, pem.as_bytes())
            .map_err(|e| format!("ZF_JWT_PUBLIC_KEY: {e:#}"))?;
        Ok(keys.accepting(&crate::auth::service_audience(service)))
    }

    /// Keys that sign as well (the gateway): `private_pem` (ZF_JWT_PRIVATE_KEY)
    /// or, in dev mode, the development private key.
    pub fn signing_keys(&self, private_pem: Option<String>) -> Result<JwtKeys, String> {
        let private = self.or_dev("ZF_JWT_PRIVATE_KEY", private_pem, DEV_JWT_PRIVATE_KEY_PEM)?;
        let public = self.jwt_public_pem()?;
        JwtKeys::from_pem_es256(Some(private.as_bytes()), public.as_bytes())
            .map_err(|e| format!("ZF_JWT_PRIVATE_KEY / ZF_JWT_PUBLIC_KEY: {e:#}"))
    }

    /// The personal-data key: configured, or the development one in dev mode.
    pub fn pii(&self) -> Result<PiiKey, String> {
        let hex = self.or_dev(
            "ZF_PII_KEY",
            self.pii_key.clone().filter(|k| !k.trim().is_empty()),
            DEV_PII_KEY_HEX,
        )?;
        PiiKey::from_hex(&hex).map_err(|e| format!("{e:#}"))
    }

    /// `value`, or in dev mode `dev`; else the error naming `name`.
    pub fn or_dev(&self, name: &str, value: Option<String>, dev: &str) -> Result<String, String> {
        match value {
            Some(v) => Ok(v),
            None if self.dev_mode => Ok(dev.to_owned()),
            None => Err(format!(
                "{name} is not set. Set it (production), or set ZF_DEV_MODE=1 to run with the \
                 PUBLISHED development keys (never in production)"
            )),
        }
    }
}

/// A secret given inline (`name`) or as a file (`name_FILE`); empty is unset.
pub fn secret(
    name: &str,
    inline: Option<&str>,
    file: Option<&PathBuf>,
) -> Result<Option<String>, String> {
    if let Some(v) = inline.filter(|v| !v.trim().is_empty()) {
        return Ok(Some(v.to_owned()));
    }
    let Some(path) = file else {
        return Ok(None);
    };
    let v = std::fs::read_to_string(path)
        .map_err(|e| format!("{name}_FILE {}: {e}", path.display()))?;
    Ok(Some(v).filter(|v| !v.trim().is_empty()))
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

/// How long the runtime's tables keep rows, and how the sweep runs.
#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// How long a published event stays in the outbox.
    pub outbox: Duration,
    /// How long an applied event's id stays in the inbox.
    pub inbox: Duration,
    /// Rows deleted per statement (one short transaction each).
    pub batch: i64,
    /// Time between sweeps.
    pub every: Duration,
}

const DAY: Duration = Duration::from_secs(24 * 3600);

/// The shortest inbox window allowed: far beyond any redelivery.
pub const MIN_INBOX: Duration = DAY;

impl RetentionConfig {
    /// Retention in days, swept every ten minutes in batches of 5,000.
    pub fn days(outbox_days: u32, inbox_days: u32) -> Self {
        Self {
            outbox: DAY * outbox_days,
            inbox: DAY * inbox_days,
            batch: 5_000,
            every: Duration::from_secs(600),
        }
    }

    /// Refuses an inbox window that a late redelivery could outlive, and a
    /// batch that deletes nothing.
    pub fn validate(&self) -> Result<(), String> {
        if self.inbox < MIN_INBOX {
            return Err(format!(
                "INBOX_RETENTION_DAYS must be at least 1 (got {} s): a shorter inbox could \
                 apply a redelivered event twice",
                self.inbox.as_secs()
            ));
        }
        if self.batch < 1 {
            return Err(format!(
                "the retention batch must be at least 1 (got {})",
                self.batch
            ));
        }
        Ok(())
    }
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
    fn dev_mode_validates_and_warns() {
        let c = parse_args(&["--dev-mode"]);
        assert!(c.validate().is_ok());
        assert_eq!(c.warnings().len(), 1);
        assert!(c.signing_keys(None).is_ok());
    }

    #[test]
    fn without_keys_or_dev_mode_the_missing_key_is_named() {
        let c = parse_args(&[]);
        let e = c.validate().unwrap_err();
        assert!(e.contains("ZF_PII_KEY") && e.contains("ZF_DEV_MODE"), "{e}");
        let c = parse_args(&["--pii-key", DEV_PII_KEY_HEX]);
        assert!(c.validate().unwrap_err().contains("ZF_JWT_PUBLIC_KEY"));
        let c = parse_args(&["--dev-mode"]);
        let e = c.signing_keys(Some("junk".into())).unwrap_err();
        assert!(e.contains("ZF_JWT_PRIVATE_KEY"), "{e}");
        let c = parse_args(&[
            "--pii-key",
            DEV_PII_KEY_HEX,
            "--jwt-public-key",
            DEV_JWT_PUBLIC_KEY_PEM,
        ]);
        assert!(c.validate().is_ok());
        assert!(c.warnings().is_empty());
        assert!(
            c.signing_keys(None)
                .unwrap_err()
                .contains("ZF_JWT_PRIVATE_KEY")
        );
    }

    #[test]
    fn the_public_key_can_come_from_a_file() {
        let path = std::env::temp_dir().join(format!("zf-pub-{}.pem", std::process::id()));
        std::fs::write(&path, DEV_JWT_PUBLIC_KEY_PEM).unwrap();
        let file = path.to_str().unwrap();
        let c = parse_args(&["--pii-key", DEV_PII_KEY_HEX, "--jwt-public-key-file", file]);
        assert!(c.validate().is_ok());
        std::fs::remove_file(&path).unwrap();
        assert!(c.validate().unwrap_err().contains("ZF_JWT_PUBLIC_KEY_FILE"));
    }

    #[test]
    fn bad_pii_key_is_refused_by_name() {
        let c = parse_args(&["--dev-mode", "--pii-key", "abc"]);
        assert!(c.validate().unwrap_err().contains("ZF_PII_KEY"));
    }

    #[test]
    fn bad_urls_are_refused() {
        let c = parse_args(&["--dev-mode", "--database-url", "mysql://x"]);
        assert!(c.validate().unwrap_err().contains("DATABASE_URL"));
        let c = parse_args(&["--dev-mode", "--amqp-url", "http://x"]);
        assert!(c.validate().unwrap_err().contains("AMQP_URL"));
    }

    #[test]
    fn admin_port_defaults_to_grpc_plus_1000() {
        let c = parse_args(&[]);
        let a = c.admin_addr_for("127.0.0.1:50051".parse().unwrap());
        assert_eq!(a.port(), 51051);
    }
}
