//! Wiring: the HTTP listener, the admin listener (/healthz, /readyz,
//! /metrics), the gateway's schema, the upstream channels, the route table.
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use zoufang_core::{clock::Clock, db};
use zoufang_service::server;

use crate::{
    SCHEMA,
    config::Config,
    desk::{self, Desk},
    door::{
        accounts,
        endpoints::{self, Module},
        inbox_stream,
        rpc::Catalog,
        state::{AppState, Settings, Upstreams},
    },
};

/// Embedded migrations of the gateway schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Every endpoint the gateway serves, with the named schemas they use: the
/// door's (accounts, the transcoded RPCs, the inbox stream), then the
/// desk's.
pub fn all_endpoints(catalog: &Catalog) -> Module {
    let (mut list, mut schemas) = accounts::endpoints();
    list.extend(endpoints::rpc_endpoints(catalog));
    let modules = std::iter::once(inbox_stream::endpoints()).chain(desk::endpoints());
    for (more, more_schemas) in modules {
        list.extend(more);
        schemas.extend(more_schemas);
    }
    (list, schemas)
}

/// The largest JSON body accepted (the default of every route). The routes
/// that take a file set their own: the imports (`desk::import::gate`, the
/// file's limit) and the RPCs carrying one
/// ([`endpoints::UPLOAD_RPC_BODY_LIMIT`]).
pub const JSON_BODY_LIMIT: usize = 1 << 20;

/// The OpenAPI document the gateway serves at `/openapi.json`, built from
/// the same route table as the router (and committed as `web/openapi.json`,
/// from which the web console generates its types).
pub fn openapi_document(catalog: &Catalog) -> serde_json::Value {
    let (list, schemas) = all_endpoints(catalog);
    endpoints::document(&list, catalog, &schemas)
}

/// A built, not yet running, gateway.
#[derive(Debug)]
pub struct Application {
    http: TcpListener,
    admin: TcpListener,
    state: AppState,
    /// The token exchange, served on the admin listener only.
    exchange: crate::door::exchange::ExchangeState,
    shutdown: CancellationToken,
    common: zoufang_core::config::CommonConfig,
    import_retention_days: u32,
}

impl Application {
    /// The HTTP port (useful with port 0).
    pub fn http_port(&self) -> u16 {
        self.http.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// The admin port.
    pub fn admin_port(&self) -> u16 {
        self.admin
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// The gateway's database pool.
    pub fn pool(&self) -> sqlx::PgPool {
        self.state.pool.clone()
    }

    /// The whole HTTP app: the route table, with the desk's state, and the
    /// web console for every other path.
    pub fn router(state: AppState) -> Router {
        let (list, schemas) = all_endpoints(&state.catalog);
        let doc = endpoints::document(&list, &state.catalog, &schemas);
        // Every error leaves as JSON in the one shape: axum's own plain-text
        // answers (a body over its limit, not JSON, not matching; no such
        // route or method) are rewritten by `errors_as_json`.
        endpoints::router(list, doc)
            // What no route matched: the web console (its pages and
            // assets), or the API's JSON 404 under /v1.
            .fallback(crate::console::serve)
            .layer(axum::extract::DefaultBodyLimit::max(JSON_BODY_LIMIT))
            .layer(axum::middleware::map_response(
                crate::door::error::errors_as_json,
            ))
            .layer(axum::Extension(Desk::default()))
            .with_state(state)
    }
}

impl zoufang_service::Service for Application {
    type Config = Config;
    const NAME: &'static str = "gateway";

    fn common(config: &Config) -> &zoufang_core::config::CommonConfig {
        &config.common
    }

    fn validate(config: &Config) -> Result<(), String> {
        config.validate()
    }

    async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let keys = Arc::new(config.signing_keys().map_err(anyhow::Error::msg)?);
        let clients = Arc::new(config.clients().map_err(anyhow::Error::msg)?);
        let http = server::bind(config.http_addr).await?;
        let admin = server::bind(config.common.admin_addr_for(http.local_addr()?)).await?;
        let pool = db::connect_and_migrate(
            &config.common.database_url,
            SCHEMA,
            config.common.db_max_connections,
            &MIGRATOR,
        )
        .await?;
        if let Some(pw) = &config.bootstrap_admin_password
            && accounts::bootstrap(&pool, pw, clock.now()).await?
        {
            tracing::warn!(
                "created the account `admin` from BOOTSTRAP_ADMIN_PASSWORD; it must change its password at the first sign-in"
            );
        }
        let state = AppState {
            pool,
            keys: keys.clone(),
            upstreams: Upstreams::connect_lazy(
                &config.registry_url,
                &config.issues_url,
                &config.supervision_url,
                &config.notify_url,
                &config.petition_url,
            )?,
            settings: Arc::new(Settings {
                access_token_secs: config.access_token_secs,
                refresh_token_days: config.refresh_token_days,
                session_max_days: config.session_max_days,
                lockout_threshold: config.lockout_threshold,
                lockout_minutes: config.lockout_minutes,
                address_limit: config.sign_in_address_limit,
                address_window_minutes: config.sign_in_address_window_minutes,
                trusted_proxies: config.trusted_proxies.clone(),
            }),
            hashing: Arc::new(accounts::hashing::Hashing::new(
                config.hashing_concurrency,
                std::time::Duration::from_millis(config.hashing_wait_ms),
            )),
            catalog: Arc::new(Catalog::load()?),
            shutdown: CancellationToken::new(),
            revoked: zoufang_core::auth::RevokedSessions::default(),
            clock: clock.clone(),
        };
        let exchange = crate::door::exchange::ExchangeState {
            pool: state.pool.clone(),
            keys,
            clients,
            clock,
        };
        Ok(Self {
            http,
            admin,
            shutdown: state.shutdown.clone(),
            state,
            common: config.common,
            import_retention_days: config.import_retention_days,
            exchange,
        })
    }

    fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            http,
            admin,
            state,
            exchange,
            shutdown,
            common,
            import_retention_days,
        } = self;
        tracing::info!(http = %http.local_addr()?, admin = %admin.local_addr()?, "gateway listening");
        // The gateway's events (sessions revoked) leave through its outbox.
        let relay = zoufang_bus::relay::OutboxRelay::new(
            state.pool.clone(),
            &common.amqp_url,
            zoufang_bus::relay::RelayConfig::for_service(SCHEMA),
        );
        let mut background = tokio::task::JoinSet::new();
        background.spawn(relay.run(shutdown.clone()));
        background.spawn(zoufang_bus::retention::run(
            state.pool.clone(),
            SCHEMA,
            common.retention(),
            shutdown.clone(),
        ));
        // Declares the revocation stream, so no revocation is published
        // before the stream exists to keep it, and follows it: inbox streams
        // of revoked sessions end.
        background.spawn(zoufang_bus::revocation::follow(
            common.amqp_url.clone(),
            state.revoked.clone(),
            shutdown.clone(),
        ));
        let admin_task = tokio::spawn(server::serve_admin_with(
            admin,
            state.pool.clone(),
            shutdown.clone(),
            crate::door::exchange::router(exchange),
        ));
        tokio::spawn(desk::sweep_old_jobs(
            state.pool.clone(),
            import_retention_days,
            shutdown.clone(),
        ));
        let app = Self::router(state);
        let stop = shutdown.clone();
        // The peer address feeds the sign-in throttle (client_addr).
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(http, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        shutdown.cancel();
        let _ = admin_task.await;
        let grace = std::time::Duration::from_secs(common.shutdown_grace_secs);
        if tokio::time::timeout(grace, async {
            while background.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            background.abort_all();
        }
        served.map_err(Into::into)
    }
}

#[cfg(test)]
mod tests;
