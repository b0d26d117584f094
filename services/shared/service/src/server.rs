//! Serving a service: the gRPC server (with `grpc.health.v1.Health`, server
//! reflection, per-request spans continuing the caller's trace and RPC
//! metrics), the admin HTTP endpoints, background tasks (outbox relay,
//! consumers), and graceful shutdown on SIGTERM/SIGINT with a grace period.
use std::{
    pin::Pin,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use axum::{Router, http::StatusCode, routing::get};
use sqlx::PgPool;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tonic::{
    service::Routes,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::ServingStatus;

use zoufang_core::{metrics, telemetry};

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received");
}

/// A running service's moving parts, stopped together.
#[derive(Debug)]
pub struct Host {
    /// Cancelled to stop everything.
    pub shutdown: CancellationToken,
    tasks: JoinSet<()>,
    grace: Duration,
}

impl Host {
    /// A host whose background tasks get `grace` to finish after shutdown.
    pub fn new(shutdown: CancellationToken, grace: Duration) -> Self {
        Self {
            shutdown,
            tasks: JoinSet::new(),
            grace,
        }
    }

    /// Runs a background task (relay, consumer) until shutdown.
    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Serves gRPC on `grpc` (`routes`, plus the open health service) and
    /// the admin endpoints on `admin` until the shutdown token is cancelled,
    /// then drains background tasks.
    pub async fn serve(
        mut self,
        grpc: TcpListener,
        admin: TcpListener,
        routes: Routes,
        service_names: &[&'static str],
        pool: PgPool,
    ) -> anyhow::Result<()> {
        let (health, health_service) = tonic_health::server::health_reporter();
        for name in service_names {
            health
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        let token = self.shutdown.clone();
        let admin_task = tokio::spawn(serve_admin(admin, pool, token.clone()));
        let grpc_token = token.clone();
        let grpc_result = Server::builder()
            .trace_fn(|req: &http::Request<()>| {
                let span = tracing::info_span!("grpc", otel.name = %req.uri().path(),
                    rpc.method = %req.uri().path(), otel.kind = "server");
                telemetry::set_parent_from_http(&span, req.headers());
                span
            })
            .layer(tower::layer::layer_fn(|inner| MetricsService { inner }))
            .add_routes(routes)
            // Open: orchestrators probe health without a token.
            .add_service(health_service)
            .serve_with_incoming_shutdown(
                // Without TCP_NODELAY small responses wait out delayed ACKs (~40 ms each).
                TcpIncoming::from(grpc).with_nodelay(Some(true)),
                async move {
                    grpc_token.cancelled().await;
                    for name in service_names {
                        health
                            .set_service_status(*name, ServingStatus::NotServing)
                            .await;
                    }
                },
            )
            .await;
        token.cancel();
        let drained = tokio::time::timeout(self.grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("background tasks did not stop within the grace period");
            self.tasks.abort_all();
        }
        let _ = admin_task.await;
        grpc_result.context("gRPC server")
    }
}

/// Serves `/healthz`, `/readyz` (database ping) and `/metrics` until `token` is cancelled.
pub async fn serve_admin(listener: TcpListener, pool: PgPool, token: CancellationToken) {
    serve_admin_with(listener, pool, token, Router::new()).await;
}

/// Like [`serve_admin`], with `extra` routes: endpoints only the private
/// network may reach (the gateway's token exchange).
pub async fn serve_admin_with(
    listener: TcpListener,
    pool: PgPool,
    token: CancellationToken,
    extra: Router,
) {
    let app = extra
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let pool = pool.clone();
                async move {
                    let ping = tokio::time::timeout(
                        Duration::from_secs(2),
                        sqlx::query("SELECT 1").execute(&pool),
                    )
                    .await;
                    match ping {
                        Ok(Ok(_)) => (StatusCode::OK, "ready".to_owned()),
                        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}")),
                        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database: timeout".into()),
                    }
                }
            }),
        )
        .route("/metrics", get(|| async { metrics::render() }));
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(async move { token.cancelled().await })
        .await
    {
        tracing::error!(error = %e, "admin server failed");
    }
}

/// Counts requests by method and status and times them.
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    inner: S,
}

impl<S, B, R> tower::Service<http::Request<B>> for MetricsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = req.uri().path().to_owned();
        let start = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await;
            let code = match &res {
                // Errors travel as trailers-only responses: grpc-status in the headers.
                Ok(r) => r
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("0")
                    .to_owned(),
                Err(_) => "transport".to_owned(),
            };
            let method = method_label(&method, &code);
            metrics::GRPC_REQUESTS
                .with_label_values(&[method, &code])
                .inc();
            metrics::GRPC_LATENCY
                .with_label_values(&[method])
                .observe(start.elapsed().as_secs_f64());
            res
        })
    }
}

/// The `method` label of a request to `path` answered with `code`: the path,
/// except that every path the server does not know (UNIMPLEMENTED, code 12)
/// counts as `unknown`, so a client cannot mint a new series per made-up path.
fn method_label<'a>(path: &'a str, code: &str) -> &'a str {
    if code == "12" { "unknown" } else { path }
}

/// Binds a listener, naming the address in the error (a port in use is the
/// commonest start failure).
pub async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

/// What every service binds and connects before it serves: the listeners
/// first (so tests start on port 0 and ask for the ports), then its migrated
/// schema. [`Base::serve`] runs the outbox relay, the service's own tasks
/// and the gRPC server with auth until the shutdown token is cancelled.
#[derive(Debug)]
pub struct Base {
    grpc: TcpListener,
    admin: TcpListener,
    pool: PgPool,
    shutdown: CancellationToken,
    common: zoufang_core::config::CommonConfig,
    schema: &'static str,
    keys: std::sync::Arc<zoufang_core::auth::JwtKeys>,
    revoked: zoufang_core::auth::RevokedSessions,
}

impl Base {
    /// Binds both listeners, connects and migrates `schema`; fails with a clear reason.
    pub async fn start(
        grpc_addr: std::net::SocketAddr,
        common: &zoufang_core::config::CommonConfig,
        schema: &'static str,
        migrator: &sqlx::migrate::Migrator,
    ) -> anyhow::Result<Self> {
        let grpc = bind(grpc_addr).await?;
        let admin = bind(common.admin_addr_for(grpc.local_addr()?)).await?;
        let pool = zoufang_core::db::connect_and_migrate(
            &common.database_url,
            schema,
            common.db_max_connections,
            migrator,
        )
        .await?;
        let keys = common.verifying_keys(schema).map_err(anyhow::Error::msg)?;
        let keys = std::sync::Arc::new(keys);
        Ok(Self {
            grpc,
            admin,
            pool,
            shutdown: CancellationToken::new(),
            common: common.clone(),
            schema,
            keys,
            revoked: zoufang_core::auth::RevokedSessions::default(),
        })
    }

    /// The port gRPC listens on (useful with port 0).
    pub fn grpc_port(&self) -> u16 {
        self.grpc.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// The port of /healthz, /readyz and /metrics.
    pub fn admin_port(&self) -> u16 {
        self.admin
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// Cancel it to stop the service gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// The service's database pool.
    pub fn pool(&self) -> PgPool {
        self.pool.clone()
    }

    /// The keys that verify tokens (the public key only: services never sign).
    pub fn keys(&self) -> std::sync::Arc<zoufang_core::auth::JwtKeys> {
        self.keys.clone()
    }

    /// The sessions whose tokens are refused (read from the revocation
    /// stream once the service serves); services streaming to a person
    /// check it to end the stream when the session ends.
    pub fn revoked_sessions(&self) -> zoufang_core::auth::RevokedSessions {
        self.revoked.clone()
    }

    /// A consumer of `bindings` on the service's queue `queue`, with the
    /// default retry delays.
    pub fn consumer<H: zoufang_bus::consumer::EventHandler>(
        &self,
        queue: &str,
        bindings: &[&str],
        handler: H,
    ) -> zoufang_bus::consumer::Consumer<H> {
        let topology = zoufang_bus::topology::ConsumerTopology {
            service: queue.to_owned(),
            bindings: bindings.iter().map(|b| (*b).to_owned()).collect(),
            retry_delays: zoufang_bus::consumer::default_retry_delays(),
        };
        zoufang_bus::consumer::Consumer::new(
            self.pool.clone(),
            &self.common.amqp_url,
            topology,
            handler,
        )
    }

    /// Serves until shutdown: the outbox relay, the tasks `spawn` adds, and
    /// the gRPC routes `routes` builds around the auth interceptor.
    pub async fn serve(
        self,
        service_names: &[&'static str],
        spawn: impl FnOnce(&mut Host, CancellationToken),
        routes: impl FnOnce(zoufang_core::auth::AuthInterceptor) -> Routes,
    ) -> anyhow::Result<()> {
        tracing::info!(service = self.schema, grpc = %self.grpc.local_addr()?,
            admin = %self.admin.local_addr()?, "listening");
        let mut host = Host::new(
            self.shutdown.clone(),
            Duration::from_secs(self.common.shutdown_grace_secs),
        );
        let relay = zoufang_bus::relay::OutboxRelay::new(
            self.pool.clone(),
            &self.common.amqp_url,
            zoufang_bus::relay::RelayConfig::for_service(self.schema),
        );
        host.spawn(relay.run(self.shutdown.clone()));
        host.spawn(zoufang_bus::retention::run(
            self.pool.clone(),
            self.schema,
            self.common.retention(),
            self.shutdown.clone(),
        ));
        host.spawn(zoufang_bus::revocation::follow(
            self.common.amqp_url.clone(),
            self.revoked.clone(),
            self.shutdown.clone(),
        ));
        spawn(&mut host, self.shutdown.clone());
        let auth = zoufang_core::auth::AuthInterceptor {
            keys: self.keys,
            revoked: self.revoked,
        };
        // Reflection describes every RPC and message: only for callers with
        // a token, like the services themselves.
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(zoufang_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .context("building the reflection service")?;
        let routes = routes(auth.clone()).add_service(
            tonic::service::interceptor::InterceptedService::new(reflection, auth),
        );
        host.serve(self.grpc, self.admin, routes, service_names, self.pool)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_paths_share_one_method_label() {
        let path = "/zoufang.registry.v1.RegistryService/RecordVisit";
        assert_eq!(method_label(path, "0"), path);
        assert_eq!(method_label(path, "3"), path);
        assert_eq!(method_label("/made.up/Path", "12"), "unknown");
    }

    /// Answers every request with the given `grpc-status` header (a
    /// trailers-only response, as tonic sends errors), or none (OK).
    #[derive(Clone)]
    struct Answer(Option<&'static str>);

    impl tower::Service<http::Request<()>> for Answer {
        type Response = http::Response<()>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            let mut res = http::Response::new(());
            if let Some(code) = self.0 {
                res.headers_mut()
                    .insert("grpc-status", http::HeaderValue::from_static(code));
            }
            std::future::ready(Ok(res))
        }
    }

    async fn call(code: Option<&'static str>, path: &str) {
        use tower::Service as _;
        let mut svc = MetricsService {
            inner: Answer(code),
        };
        let req = http::Request::builder().uri(path).body(()).unwrap();
        svc.call(req).await.unwrap();
    }

    #[tokio::test]
    async fn requests_are_counted_by_method_and_status_code() {
        let path = "/zoufang.metricstest.v1.MetricsTestService/Do";
        call(None, path).await;
        call(None, path).await;
        call(Some("7"), path).await;
        call(
            Some("12"),
            "/zoufang.metricstest.v1.MetricsTestService/Nope",
        )
        .await;
        let text = metrics::render();
        for line in [
            format!(r#"zf_grpc_requests_total{{code="0",method="{path}"}} 2"#),
            format!(r#"zf_grpc_requests_total{{code="7",method="{path}"}} 1"#),
            format!(r#"zf_grpc_request_seconds_count{{method="{path}"}} 3"#),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from:\n{text}"
            );
        }
        assert!(!text.contains("MetricsTestService/Nope"), "{text}");
    }
}
