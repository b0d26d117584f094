//! The petition bridge's configuration: its listeners, the registry it
//! matches petitioners in, the inbound AMQP exchange, the webhook's
//! freshness window and the answer deliveries' retry timing.
use std::{net::SocketAddr, path::PathBuf, time::Duration};

use zoufang_bus::retry::RetryPolicy;
use zoufang_core::{
    auth::exchange::{TokenExchange, dev_service_secret},
    config::{CommonConfig, secret},
};

/// This service's client id at the token exchange.
pub const CLIENT_ID: &str = "petition";

/// The petition-system bridge (信访对接).
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "petition", version)]
pub struct Config {
    /// gRPC listen address.
    #[arg(long, env = "GRPC_ADDR", default_value = "127.0.0.1:50055")]
    pub grpc_addr: SocketAddr,
    /// The inbound webhook's listen address (POST /v1/cases).
    #[arg(long, env = "WEBHOOK_ADDR", default_value = "127.0.0.1:8085")]
    pub webhook_addr: SocketAddr,
    /// The registry, where petitioners are matched to households.
    #[arg(long, env = "REGISTRY_URL", default_value = "http://127.0.0.1:50051")]
    pub registry_url: String,
    /// Name of this service's event queues (`<name>.events`, `.retry.*`, `.parking`).
    #[arg(long, env = "CONSUMER_QUEUE", default_value = "petition")]
    pub consumer_queue: String,
    /// The exchange systems on the same broker publish cases to.
    #[arg(
        long,
        env = "INBOUND_EXCHANGE",
        default_value = "zoufang.petition.inbound"
    )]
    pub inbound_exchange: String,
    /// The queue the bridge reads them from (`.parking` holds bad ones).
    #[arg(long, env = "INBOUND_QUEUE", default_value = "petition.inbound")]
    pub inbound_queue: String,
    /// How far a signed case's timestamp (webhook or AMQP) may be from now,
    /// in seconds; well below the replay store's retention (7 days).
    #[arg(long, env = "SIGNATURE_WINDOW_SECS", default_value_t = 300)]
    pub signature_window_secs: i64,
    /// How often cases whose appeal window ran out are made final.
    #[arg(long, env = "SETTLE_INTERVAL_SECS", default_value_t = 3600)]
    pub settle_interval_secs: u64,
    /// How often the dispatcher looks for due answers.
    #[arg(long, env = "DISPATCH_INTERVAL_MS", default_value_t = 500)]
    pub dispatch_interval_ms: u64,
    /// Delay after an answer's first failed push; doubles after each further one.
    #[arg(long, env = "DELIVERY_BACKOFF_MS", default_value_t = 5000)]
    pub delivery_backoff_ms: u64,
    /// The longest delay between two pushes of an answer.
    #[arg(long, env = "DELIVERY_MAX_BACKOFF_SECS", default_value_t = 1800)]
    pub delivery_max_backoff_secs: u64,
    /// Pushes before an answer is failed with its last reason.
    #[arg(long, env = "DELIVERY_MAX_ATTEMPTS", default_value_t = 12)]
    pub delivery_max_attempts: u32,
    /// Each push's time limit.
    #[arg(long, env = "DELIVERY_TIMEOUT_SECS", default_value_t = 10)]
    pub delivery_timeout_secs: u64,
    /// Hosts, addresses and CIDR networks (comma-separated) that callback
    /// URLs may reach besides public https addresses, e.g. `127.0.0.1` in
    /// development. Empty: public https only.
    #[arg(long, env = "OUTBOUND_ALLOW", default_value = "")]
    pub outbound_allow: String,
    #[command(flatten)]
    pub common: CommonConfig,
    /// The gateway's token exchange (on its admin listener, private
    /// network), which issues the bridge's short-lived registry tokens.
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
}

impl Config {
    /// Checks what clap cannot.
    pub fn validate(&self) -> Result<(), String> {
        self.common.validate()?;
        self.exchange()?;
        if self.delivery_max_attempts == 0 {
            return Err("DELIVERY_MAX_ATTEMPTS must be at least 1".into());
        }
        if self.dispatch_interval_ms == 0 {
            return Err("DISPATCH_INTERVAL_MS must be at least 1".into());
        }
        if self.settle_interval_secs == 0 {
            return Err("SETTLE_INTERVAL_SECS must be at least 1".into());
        }
        zoufang_core::outbound::AllowList::parse(&self.outbound_allow)?;
        check_signature_window(self.signature_window_secs)
    }

    /// The answer deliveries' retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_millis(self.delivery_backoff_ms),
            cap: Duration::from_secs(self.delivery_max_backoff_secs),
            max_attempts: self.delivery_max_attempts,
        }
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

/// The freshness window must be positive and, counted either side of a
/// timestamp, shorter than the replay store remembers MACs: otherwise a
/// captured request becomes new again while it is still fresh.
pub fn check_signature_window(window_secs: i64) -> Result<(), String> {
    let keep = crate::store::signatures::RETENTION_SECS;
    if window_secs <= 0 || window_secs.saturating_mul(2) >= keep {
        return Err(format!(
            "SIGNATURE_WINDOW_SECS must be positive and below {} (half the replay store's retention of {keep} s), got {window_secs}",
            keep / 2
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_signature_window;

    #[test]
    fn the_freshness_window_stays_below_the_replay_retention() {
        assert!(check_signature_window(300).is_ok());
        assert!(check_signature_window(0).is_err());
        assert!(check_signature_window(-5).is_err());
        assert!(check_signature_window(3 * 86_400).is_ok());
        assert!(check_signature_window(4 * 86_400).is_err());
        assert!(check_signature_window(i64::MAX).is_err());
    }
}
