//! The notification service's configuration: listen address, where links
//! point, the SMS provider, delivery retry timing, the escalation step and
//! the digest hour, plus the common settings.
use std::{net::SocketAddr, time::Duration};

use zoufang_core::config::CommonConfig;

use zoufang_bus::retry::RetryPolicy;

/// The notification service (通知): inbox, SMS, group robots, webhooks.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "notify", version)]
pub struct Config {
    /// gRPC listen address.
    #[arg(long, env = "GRPC_ADDR", default_value = "127.0.0.1:50054")]
    pub grpc_addr: SocketAddr,
    /// Name of this service's queues (`<name>.events`, `.retry.*`, `.parking`).
    #[arg(long, env = "CONSUMER_QUEUE", default_value = "notify")]
    pub consumer_queue: String,
    /// Base URL of the web app; messages link to `<base>/issues/<id>` etc.
    #[arg(long, env = "LINK_BASE_URL", default_value = "http://127.0.0.1:8080")]
    pub link_base_url: String,
    /// Hosts, addresses and CIDR networks (comma-separated) that robot and
    /// webhook subscription URLs may reach besides public https addresses,
    /// e.g. `127.0.0.1` in development. Empty: public https only. (The SMS
    /// provider below is the operator's own and is not checked.)
    #[arg(long, env = "OUTBOUND_ALLOW", default_value = "")]
    pub outbound_allow: String,
    /// The SMS provider's HTTP endpoint; unset means no SMS is sent.
    #[arg(long, env = "SMS_PROVIDER_URL")]
    pub sms_provider_url: Option<String>,
    /// Bearer token for the SMS provider.
    #[arg(long, env = "SMS_PROVIDER_TOKEN", default_value = "")]
    pub sms_provider_token: String,
    /// The SMS signature (短信签名).
    #[arg(long, env = "SMS_SIGN_NAME", default_value = "走访")]
    pub sms_sign_name: String,
    /// How often the dispatcher looks for due deliveries, escalations and digests.
    #[arg(long, env = "DISPATCH_INTERVAL_MS", default_value_t = 500)]
    pub dispatch_interval_ms: u64,
    /// Delay after a delivery's first failure; doubles after each further one.
    #[arg(long, env = "DELIVERY_BACKOFF_MS", default_value_t = 5000)]
    pub delivery_backoff_ms: u64,
    /// The longest delay between two attempts of a delivery.
    #[arg(long, env = "DELIVERY_MAX_BACKOFF_SECS", default_value_t = 1800)]
    pub delivery_max_backoff_secs: u64,
    /// Attempts before a delivery is failed with its last reason.
    #[arg(long, env = "DELIVERY_MAX_ATTEMPTS", default_value_t = 8)]
    pub delivery_max_attempts: u32,
    /// Each HTTP request's time limit.
    #[arg(long, env = "DELIVERY_TIMEOUT_SECS", default_value_t = 10)]
    pub delivery_timeout_secs: u64,
    /// How long an overdue item waits on one rung of the escalation ladder
    /// before the next (responsible cadre → township → county).
    #[arg(long, env = "ESCALATION_STEP_SECS", default_value_t = 86_400)]
    pub escalation_step_secs: u64,
    /// The Beijing hour after which the daily digest goes out.
    #[arg(long, env = "DIGEST_HOUR", default_value_t = 8)]
    pub digest_hour: u32,
    #[command(flatten)]
    pub common: CommonConfig,
}

impl Config {
    /// Checks what clap cannot.
    pub fn validate(&self) -> Result<(), String> {
        self.common.validate()?;
        zoufang_core::outbound::AllowList::parse(&self.outbound_allow)?;
        if self.digest_hour > 23 {
            return Err("DIGEST_HOUR must be 0–23".into());
        }
        if self.delivery_max_attempts == 0 {
            return Err("DELIVERY_MAX_ATTEMPTS must be at least 1".into());
        }
        if self.dispatch_interval_ms == 0 {
            return Err("DISPATCH_INTERVAL_MS must be at least 1".into());
        }
        Ok(())
    }

    /// The delivery retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_millis(self.delivery_backoff_ms),
            cap: Duration::from_secs(self.delivery_max_backoff_secs),
            max_attempts: self.delivery_max_attempts,
        }
    }
}
