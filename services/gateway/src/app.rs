//! Wiring: the HTTP listener, the admin listener (/healthz, /readyz,
//! /metrics), the gateway's schema, the upstream channels, the route table.
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use zoufang_runtime::{auth::JwtKeys, db, server};

use crate::{
    SCHEMA, accounts,
    config::Config,
    endpoints::{self, Module},
    rpc::Catalog,
    state::{AppState, Settings, Upstreams},
};

/// Embedded migrations of the gateway schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Every endpoint the gateway serves, with the named schemas they use.
pub fn all_endpoints(catalog: &Catalog) -> Module {
    let (mut list, mut schemas) = accounts::endpoints();
    list.extend(endpoints::rpc_endpoints(catalog));
    for (more, more_schemas) in extensions() {
        list.extend(more);
        schemas.extend(more_schemas);
    }
    (list, schemas)
}

/// The feature modules' endpoints (import, export, reports).
fn extensions() -> Vec<Module> {
    vec![
        crate::report::endpoints(),
        crate::import::endpoints(),
        crate::export::endpoints(),
        crate::inbox_stream::endpoints(),
    ]
}

/// A built, not yet running, gateway.
#[derive(Debug)]
pub struct Application {
    http: TcpListener,
    admin: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
}

impl Application {
    /// Binds, connects and migrates; fails with a clear reason.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
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
            && accounts::bootstrap(&pool, pw).await?
        {
            tracing::warn!(
                "created the account `admin` from BOOTSTRAP_ADMIN_PASSWORD; change its password"
            );
        }
        let state = AppState {
            pool,
            keys: Arc::new(JwtKeys::hs256(config.common.jwt_secret.as_bytes())?),
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
        };
        Ok(Self {
            http,
            admin,
            shutdown: state.shutdown.clone(),
            state,
        })
    }

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

    /// Cancel it to stop the gateway.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// The gateway's database pool.
    pub fn pool(&self) -> sqlx::PgPool {
        self.state.pool.clone()
    }

    /// The whole HTTP app.
    pub fn router(state: AppState) -> Router {
        let (list, schemas) = all_endpoints(&state.catalog);
        let doc = endpoints::document(&list, &state.catalog, &schemas);
        endpoints::router(list, doc)
            .layer(axum::extract::DefaultBodyLimit::max(256 << 20))
            .with_state(state)
    }

    /// Serves until the shutdown token is cancelled.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            http,
            admin,
            state,
            shutdown,
        } = self;
        tracing::info!(http = %http.local_addr()?, admin = %admin.local_addr()?, "gateway listening");
        let admin_task = tokio::spawn(server::serve_admin(
            admin,
            state.pool.clone(),
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
        served.map_err(Into::into)
    }
}
