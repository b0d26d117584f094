//! The whole stack behind the gateway, for HTTP tests: registry, ledger,
//! supervision, notify and the petition bridge on one database (their own schemas), each with
//! its own queue, and the gateway in front with a bootstrap admin.
use std::time::Duration;
use zoufang_service::Service as _;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use zoufang_gateway::{app::Application, config::Config};

use crate::{TestNotify, TestPetition, TestService, common_config, unique_name, wait_for_queue};

/// The bootstrap admin's password in tests, after its required first change.
pub const ADMIN_PASSWORD: &str = "admin-pass-123";
/// The password the bootstrap admin is created with (BOOTSTRAP_ADMIN_PASSWORD),
/// which it must change at the first sign-in.
pub const BOOTSTRAP_PASSWORD: &str = "admin-boot-123";

/// Every service and the gateway.
pub struct TestGateway {
    pub database: String,
    pub registry: TestService,
    pub issues: TestService,
    pub supervision: TestService,
    pub notify: TestNotify,
    pub petition: TestPetition,
    pub port: u16,
    pub pool: sqlx::PgPool,
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    http: reqwest::Client,
}

/// A gateway configuration on `database` in front of the given ports.
pub fn gateway_config(
    database: &str,
    registry: u16,
    issues: u16,
    supervision: u16,
    notify: u16,
    petition: u16,
) -> Config {
    let url = |p: u16| format!("http://127.0.0.1:{p}");
    Config {
        http_addr: "127.0.0.1:0".parse().expect("addr"),
        registry_url: url(registry),
        issues_url: url(issues),
        supervision_url: url(supervision),
        notify_url: url(notify),
        petition_url: url(petition),
        access_token_secs: 300,
        refresh_token_days: 1,
        session_max_days: 30,
        jwt_private_key: Some(zoufang_core::auth::DEV_JWT_PRIVATE_KEY_PEM.into()),
        jwt_private_key_file: None,
        service_clients: Some(dev_service_clients()),
        lockout_threshold: 5,
        lockout_minutes: 15,
        import_retention_days: 30,
        sign_in_address_limit: 30,
        sign_in_address_window_minutes: 15,
        trusted_proxies: vec![],
        hashing_concurrency: 0,
        hashing_wait_ms: 5000,
        bootstrap_admin_password: Some(BOOTSTRAP_PASSWORD.into()),
        common: common_config(database),
    }
}

/// Signs in as the bootstrap admin with `password`: its access token, or
/// None when the password is not (or no longer) the admin's.
pub async fn admin_sign_in(http_port: u16, password: &str) -> Option<String> {
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{http_port}/v1/auth/sign-in"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .expect("sign in");
    let body: Value = resp.json().await.expect("json");
    body["access_token"].as_str().map(str::to_owned)
}

/// Does the bootstrap admin's required first password change on the
/// gateway at `http_port` (from [`BOOTSTRAP_PASSWORD`] to [`ADMIN_PASSWORD`]),
/// unless it was done already (a gateway on the same database did it).
pub async fn complete_first_sign_in(http_port: u16) {
    let Some(token) = admin_sign_in(http_port, BOOTSTRAP_PASSWORD).await else {
        assert!(
            admin_sign_in(http_port, ADMIN_PASSWORD).await.is_some(),
            "the bootstrap admin signs in with neither password"
        );
        return;
    };
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{http_port}/v1/auth/password"))
        .bearer_auth(token)
        .json(&json!({"old_password": BOOTSTRAP_PASSWORD, "new_password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("change password");
    assert_eq!(resp.status().as_u16(), 200, "the first password change");
}

/// The bootstrap admin's access token from the gateway on `http_port`,
/// its first password change done.
pub async fn ready_admin_token(http_port: u16) -> String {
    complete_first_sign_in(http_port).await;
    admin_sign_in(http_port, ADMIN_PASSWORD)
        .await
        .expect("admin signs in")
}

/// `ZF_SERVICE_CLIENTS` for the development service secrets.
pub fn dev_service_clients() -> String {
    use sha2::Digest as _;
    ["supervision", "petition"]
        .iter()
        .map(|c| {
            let secret = zoufang_core::auth::exchange::dev_service_secret(c);
            format!(
                "{c}={}",
                hex::encode(sha2::Sha256::digest(secret.as_bytes()))
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl TestGateway {
    /// Starts everything on a new database.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts everything, the gateway configured by `configure` first.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let database = unique_name("zft");
        let registry = TestService::start_on(&database).await;
        let issues_queue = unique_name("zft");
        let issues = TestService::start_issues_on(&database, &issues_queue, 3600).await;
        let sup_queue = unique_name("zft");
        let supervision =
            TestService::start_supervision_on(&database, &sup_queue, registry.grpc_port).await;
        let notify =
            TestNotify::start(&database, zoufang_core::clock::Clock::system(), |_| {}).await;
        let petition = TestPetition::start(
            &database,
            zoufang_core::clock::Clock::system(),
            registry.grpc_port,
        )
        .await;
        wait_for_queue(&issues_queue).await;
        wait_for_queue(&sup_queue).await;
        let mut config = gateway_config(
            &database,
            registry.grpc_port,
            issues.grpc_port,
            supervision.grpc_port,
            notify.service.grpc_port,
            petition.service.grpc_port,
        );
        configure(&mut config);
        let app = Application::build(config).await.expect("gateway builds");
        let (port, pool, shutdown) = (app.http_port(), app.pool(), app.shutdown_token());
        let handle = tokio::spawn(app.run_until_stopped());
        // The authority (on the same database) may have done it already.
        complete_first_sign_in(port).await;
        Self {
            database,
            registry,
            issues,
            supervision,
            notify,
            petition,
            port,
            pool,
            shutdown,
            handle,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("http client"),
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Signs in; the access token.
    pub async fn sign_in(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .post(
                "/v1/auth/sign-in",
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "sign in as {username}: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// The bootstrap admin's token.
    pub async fn admin_token(&self) -> String {
        self.sign_in("admin", ADMIN_PASSWORD).await
    }

    /// Creates an account as `admin_token` and signs it in.
    pub async fn account(
        &self,
        admin_token: &str,
        username: &str,
        roles: &[&str],
        scope: &str,
        user_id: &str,
    ) -> String {
        let password = "pass-word-123";
        let (status, body) = self
            .post(
                "/v1/accounts",
                Some(admin_token),
                json!({"username": username, "password": password, "display_name": username,
                       "roles": roles, "scope": scope, "user_id": user_id}),
            )
            .await;
        assert_eq!(status, 201, "create account {username}: {body}");
        self.sign_in(username, password).await
    }

    /// POSTs JSON; (status, JSON body or Null).
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("POST");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// GETs; (status, JSON body or Null).
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("GET");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The raw client (uploads, downloads).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Stops everything; panics unless each returns Ok (see
    /// [`TestService::stop`]).
    pub async fn stop(self) {
        self.shutdown.cancel();
        crate::expect_clean_exit("the gateway", self.handle).await;
        self.petition.stop().await;
        self.notify.stop().await;
        self.supervision.stop().await;
        self.issues.stop().await;
        self.registry.stop().await;
    }
}
