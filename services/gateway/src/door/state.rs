//! What every handler needs: the database (accounts, sessions), the token
//! keys, and channels to the services; and the part of it the desk may use
//! ([`Backend`]).
use std::sync::Arc;

use tonic::{service::interceptor::InterceptedService, transport::Channel};
use zoufang_core::{
    auth::{BearerInterceptor, JwtKeys},
    clock::Clock,
};
use zoufang_proto::{
    issues::v1::issue_service_client::IssueServiceClient,
    notify::v1::notify_service_client::NotifyServiceClient,
    registry::v1::registry_service_client::RegistryServiceClient,
    supervision::v1::supervision_service_client::SupervisionServiceClient,
};

use crate::door::rpc::Catalog;

type Intercepted = InterceptedService<Channel, BearerInterceptor>;

/// Lazily connected channels to the services.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub registry: Channel,
    pub issues: Channel,
    pub supervision: Channel,
    pub notify: Channel,
    pub petition: Channel,
}

impl Upstreams {
    /// Channels to the five services; they connect on first use.
    pub fn connect_lazy(
        registry: &str,
        issues: &str,
        supervision: &str,
        notify: &str,
        petition: &str,
    ) -> anyhow::Result<Self> {
        let lazy = |url: &str| -> anyhow::Result<Channel> {
            Ok(Channel::from_shared(url.to_owned())?.connect_lazy())
        };
        Ok(Self {
            registry: lazy(registry)?,
            issues: lazy(issues)?,
            supervision: lazy(supervision)?,
            notify: lazy(notify)?,
            petition: lazy(petition)?,
        })
    }

    /// The registry, acting with `token`.
    pub fn registry(&self, token: &str) -> RegistryServiceClient<Intercepted> {
        RegistryServiceClient::with_interceptor(
            self.registry.clone(),
            BearerInterceptor(token.to_owned()),
        )
        .max_decoding_message_size(64 << 20)
    }

    /// The ledger, acting with `token`.
    pub fn issues(&self, token: &str) -> IssueServiceClient<Intercepted> {
        IssueServiceClient::with_interceptor(
            self.issues.clone(),
            BearerInterceptor(token.to_owned()),
        )
        .max_decoding_message_size(64 << 20)
    }

    /// The supervision service, acting with `token`.
    pub fn supervision(&self, token: &str) -> SupervisionServiceClient<Intercepted> {
        SupervisionServiceClient::with_interceptor(
            self.supervision.clone(),
            BearerInterceptor(token.to_owned()),
        )
        .max_decoding_message_size(64 << 20)
    }

    /// The notification service, acting with `token`.
    pub fn notify(&self, token: &str) -> NotifyServiceClient<Intercepted> {
        NotifyServiceClient::with_interceptor(
            self.notify.clone(),
            BearerInterceptor(token.to_owned()),
        )
    }
}

/// Token lifetimes and the lock-out policy.
#[derive(Debug, Clone)]
pub struct Settings {
    pub access_token_secs: i64,
    pub refresh_token_days: i64,
    /// Absolute session lifetime: no refresh after this many days since sign-in.
    pub session_max_days: i64,
    pub lockout_threshold: i32,
    pub lockout_minutes: i64,
    /// Failed sign-ins per client address and window before 429.
    pub address_limit: i32,
    pub address_window_minutes: i64,
    /// Peers whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// The handlers' shared state.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The gateway's own database (schema `gateway`).
    pub pool: sqlx::PgPool,
    pub keys: Arc<JwtKeys>,
    pub upstreams: Upstreams,
    pub settings: Arc<Settings>,
    /// The bound on concurrent password hashing.
    pub hashing: Arc<crate::door::accounts::hashing::Hashing>,
    /// Every service's RPCs and message types, for the JSON transcoder.
    pub catalog: Arc<Catalog>,
    /// Cancelled when the gateway stops; long-lived responses end with it.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Sessions revoked anywhere (read from the revocation stream): the
    /// inbox stream of a revoked session ends.
    pub revoked: zoufang_core::auth::RevokedSessions,
    /// Where "now" comes from: sessions, lock-outs, token lifetimes, the
    /// desk's "today". Tokens are checked by the services on their own
    /// clocks, so a test that sets this one keeps it near real time.
    pub clock: Clock,
}

/// What the desk may use of the door's state: the gateway's database (the
/// desk's own tables in the gateway's schema) and the services, called with
/// the caller's token. A handler extracts it as `State<Backend>`.
#[derive(Debug, Clone)]
pub struct Backend {
    /// The gateway's database (schema `gateway`).
    pub pool: sqlx::PgPool,
    /// Channels to the services.
    pub upstreams: Upstreams,
    /// The gateway's clock (an export's time, an import's "today").
    pub clock: Clock,
}

impl axum::extract::FromRef<AppState> for Backend {
    fn from_ref(state: &AppState) -> Self {
        Self {
            pool: state.pool.clone(),
            upstreams: state.upstreams.clone(),
            clock: state.clock.clone(),
        }
    }
}
