//! Tokens (issue 18: High 2 without revocation, High 5, Low items): ES256
//! with issuer and audience instead of a shared HS256 secret, the token
//! exchange instead of services signing their own, no start without real
//! keys unless in development mode, short access tokens with an absolute
//! session lifetime, fixed refusal messages.
use std::{process::Command, time::Duration};
use zoufang_service::Service as _;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tonic::{Code, transport::Channel};
use zoufang_core::auth::{
    AUDIENCE, BearerInterceptor, DEV_JWT_PRIVATE_KEY_PEM, DEV_JWT_PUBLIC_KEY_PEM, ISSUER,
    exchange::{dev_service_secret, purposes},
    roles, service_audience,
};
use zoufang_e2e::{
    TestRegistry, common_config, fixtures, gateway, procs, start_authority, token, unique_name,
};
use zoufang_proto::registry::v1::{
    GetHouseholdRequest, ListRegionsRequest, registry_service_client::RegistryServiceClient,
};

/// The claims of a county admin, valid for an hour, with `iss` and `aud`.
fn admin_claims(iss: &str, aud: &str) -> Value {
    let exp = chrono::Utc::now().timestamp() + 3600;
    json!({"sub": "forger", "roles": ["county_admin"], "scope": "", "exp": exp,
        "iss": iss, "aud": aud})
}

fn dev_signed(claims: &Value) -> String {
    let key = EncodingKey::from_ec_pem(DEV_JWT_PRIVATE_KEY_PEM.as_bytes()).expect("key");
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), claims, &key).expect("sign")
}

/// The registry's answer to ListRegions with `token`.
async fn list_regions(registry: &TestRegistry, token: &str) -> Result<(), tonic::Status> {
    let channel = Channel::from_shared(format!("http://127.0.0.1:{}", registry.grpc_port))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut client =
        RegistryServiceClient::with_interceptor(channel, BearerInterceptor(token.to_owned()));
    client
        .list_regions(ListRegionsRequest::default())
        .await
        .map(|_| ())
}

/// Caught: every service defaulted `ZF_JWT_SECRET` to the published
/// `zoufang-dev-secret`, so anyone could sign a county-admin token the
/// registry accepted. Now only ES256 tokens of the authority's key pass.
#[tokio::test]
async fn an_hs256_token_signed_with_the_old_development_secret_is_refused() {
    let registry = TestRegistry::start().await;
    let claims = admin_claims(ISSUER, AUDIENCE);
    let old = EncodingKey::from_secret(b"zoufang-dev-secret").expect("key");
    let forged = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &old).unwrap();
    let err = list_regions(&registry, &forged).await.expect_err("forged");
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    assert!(err.message().contains("algorithm"), "{}", err.message());
    // The authority's own kind of token passes (so the refusal is the algorithm's).
    assert!(list_regions(&registry, &dev_signed(&claims)).await.is_ok());
    registry.stop().await;
}

/// Caught: tokens carried no issuer or audience, so a token minted for one
/// purpose at one service (or by anyone holding a key) was good everywhere.
/// Now the registry refuses a wrong `iss`, a wrong or missing `aud`, a token
/// meant for another service, and another key pair's signature — and
/// accepts a token meant for itself. (Before, the ES256 control failed.)
#[tokio::test]
async fn tokens_with_the_wrong_issuer_or_audience_are_refused() {
    let registry = TestRegistry::start().await;
    for (claims, why) in [
        (
            admin_claims("someone-else", AUDIENCE),
            "not issued by the sign-in authority",
        ),
        (
            admin_claims(ISSUER, "another-system"),
            "not meant for this service",
        ),
        (
            admin_claims(ISSUER, &service_audience("issues")),
            "not meant for this service",
        ),
    ] {
        let err = list_regions(&registry, &dev_signed(&claims))
            .await
            .expect_err(why);
        assert_eq!(err.code(), Code::Unauthenticated);
        assert!(err.message().contains(why), "{} / {why}", err.message());
    }
    let mut no_aud = admin_claims(ISSUER, AUDIENCE);
    no_aud.as_object_mut().unwrap().remove("aud");
    let err = list_regions(&registry, &dev_signed(&no_aud))
        .await
        .expect_err("no aud");
    assert!(err.message().contains("aud"), "{}", err.message());
    let impostor = zoufang_e2e::impostor_keys()
        .mint_for("x", &[roles::COUNTY_ADMIN], "", chrono::Duration::hours(1))
        .unwrap();
    let err = list_regions(&registry, &impostor)
        .await
        .expect_err("impostor");
    assert_eq!(err.message(), "bad token signature");
    let own = admin_claims(ISSUER, &service_audience("registry"));
    assert!(list_regions(&registry, &dev_signed(&own)).await.is_ok());
    registry.stop().await;
}

/// Caught (Low): a token with `alg: none` was refused with the library's
/// parse error, which listed every algorithm it supports.
#[tokio::test]
async fn the_alg_none_refusal_names_no_algorithms() {
    use base64::Engine as _;
    let registry = TestRegistry::start().await;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let claims = admin_claims(ISSUER, AUDIENCE).to_string();
    let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
    let err = list_regions(&registry, &none).await.expect_err("alg none");
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(err.message(), "malformed token");
    registry.stop().await;
}

/// Runs `binary` with only `env` (plus a database and broker URL) and
/// returns its exit code and stderr; it must exit on its own quickly.
fn run_without_keys(binary: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(procs::binary(binary));
    cmd.env_clear()
        .env(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/zoufang_unused",
        )
        .env("AMQP_URL", zoufang_e2e::amqp_url())
        .env("GRPC_ADDR", "127.0.0.1:0")
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env("ADMIN_ADDR", "127.0.0.1:0")
        .envs(env.iter().copied());
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(out) = rx.recv_timeout(Duration::from_secs(20)) else {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        panic!("{binary} did not exit: it started without its keys");
    };
    let out = out.expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Caught (High 5): without `ZF_JWT_SECRET` / `ZF_PII_KEY` the services
/// warned and started with published defaults. Now each refuses to start
/// (exit 64) naming the missing variable, unless `ZF_DEV_MODE=1`.
#[test]
fn services_without_keys_and_without_the_development_flag_exit_64_naming_the_variable() {
    let pii = ("ZF_PII_KEY", zoufang_core::pii::DEV_PII_KEY_HEX);
    let public = ("ZF_JWT_PUBLIC_KEY", DEV_JWT_PUBLIC_KEY_PEM);
    for (binary, env, missing) in [
        ("registry", vec![], "ZF_PII_KEY"),
        ("registry", vec![pii], "ZF_JWT_PUBLIC_KEY"),
        ("issues", vec![pii], "ZF_JWT_PUBLIC_KEY"),
        ("gateway", vec![pii, public], "ZF_JWT_PRIVATE_KEY"),
        ("supervision", vec![pii, public], "ZF_SERVICE_SECRET"),
        ("petition", vec![pii, public], "ZF_SERVICE_SECRET"),
    ] {
        let (code, stderr) = run_without_keys(binary, &env);
        assert_eq!(code, Some(64), "{binary}: {stderr}");
        assert!(
            stderr.contains(missing),
            "{binary} should name {missing}: {stderr}"
        );
    }
    // With the flag the keys resolve (to the published ones): the next
    // check, a bad URL, is what stops it.
    let (code, stderr) = run_without_keys(
        "gateway",
        &[("ZF_DEV_MODE", "1"), ("DATABASE_URL", "mysql://x")],
    );
    assert_eq!(code, Some(64), "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

/// POSTs an exchange request; (status, body).
async fn exchange(url: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("exchange reachable");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The claims of a token, unverified (the test reads what was issued).
fn peek(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("json")
}

/// Caught: supervision and the petition bridge signed tokens themselves
/// with the shared secret. Now only the authority issues them, through the
/// exchange: a client needs its secret, gets only its own purposes, and the
/// token is good for the registry only, for at most two minutes.
#[tokio::test]
async fn service_tokens_need_the_client_secret_and_come_only_for_the_clients_purposes() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let database = unique_name("zft");
    let registry = TestRegistry::start_on(&database).await;
    let (url, authority) = start_authority(&database).await;
    let ask = |client: &str, secret: &str, purpose: &str| {
        json!({"client_id": client, "client_secret": secret, "purpose": purpose,
               "scope": fixtures::COUNTY})
    };
    let petition = dev_service_secret("petition");
    for (body, status, code) in [
        (
            ask("petition", "guess", purposes::PETITION_MATCH),
            401,
            "invalid_client",
        ),
        (
            ask("stranger", &petition, purposes::PETITION_MATCH),
            401,
            "invalid_client",
        ),
        (
            ask("supervision", &petition, purposes::PETITION_MATCH),
            401,
            "invalid_client",
        ),
        (
            ask("petition", &petition, purposes::CALLBACK_PHONE),
            403,
            "unauthorized_client",
        ),
        (
            ask(
                "supervision",
                &dev_service_secret("supervision"),
                purposes::PETITION_MATCH,
            ),
            403,
            "unauthorized_client",
        ),
        (
            ask("petition", &petition, "anything"),
            400,
            "invalid_request",
        ),
    ] {
        let (got, answer) = exchange(&url, body.clone()).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
        assert!(answer.get("access_token").is_none());
    }
    // The whole country is never granted.
    let mut everything = ask("petition", &petition, purposes::PETITION_MATCH);
    everything["scope"] = json!("");
    assert_eq!(exchange(&url, everything).await.0, 400);

    let (status, answer) =
        exchange(&url, ask("petition", &petition, purposes::PETITION_MATCH)).await;
    assert_eq!(status, 200, "{answer}");
    let issued = answer["access_token"].as_str().unwrap().to_owned();
    let claims = peek(&issued);
    assert_eq!(claims["sub"], "service:petition");
    assert_eq!(claims["aud"], service_audience("registry"));
    assert_eq!(claims["purpose"], purposes::PETITION_MATCH);
    assert!(claims["exp"].as_i64().unwrap() <= chrono::Utc::now().timestamp() + 120);
    // Good at the registry, in its county; refused by any other service.
    let common = common_config(&database);
    assert!(
        common
            .verifying_keys("registry")
            .unwrap()
            .verify(&issued)
            .is_ok()
    );
    let elsewhere = common.verifying_keys("issues").unwrap().verify(&issued);
    assert!(
        elsewhere
            .unwrap_err()
            .to_string()
            .contains("not meant for this service")
    );
    assert!(list_regions(&registry, &issued).await.is_ok());
    authority.stop().await;
    registry.stop().await;
}

/// Signs in at the authority's gateway; (access, refresh).
async fn sign_in(http_port: u16, username: &str, password: &str) -> (String, String) {
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{http_port}/v1/auth/sign-in"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("sign in");
    let body: Value = resp.json().await.expect("json");
    let access = body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    (
        access.to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn gateway_post(http_port: u16, path: &str, token: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{http_port}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("post");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Caught: supervision read a household's phone with a token it signed
/// itself. Now it presents the supervisor's own access token to the
/// exchange: the issued token names the supervisor (`act` names
/// supervision), the registry audits the read under the supervisor's id, a
/// signed-out session gets nothing, and a cadre cannot be delegated the
/// purpose. (`supervision::flow` checks the same audit through supervision.)
#[tokio::test]
async fn a_delegated_phone_read_is_audited_under_the_supervisor_and_needs_an_open_session() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let database = unique_name("zft");
    let registry = TestRegistry::start_on(&database).await;
    let mut admin = registry
        .client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    let seed = fixtures::seed(&mut admin).await;
    let (url, authority) = start_authority(&database).await;
    let port = authority.http_port;
    let admin_token = gateway::ready_admin_token(port).await;
    for (username, role, user_id) in [
        ("sup-a", roles::SUPERVISOR, "sup-audit-1"),
        ("cadre-a", roles::CADRE, "cadre-audit-1"),
    ] {
        let (status, body) = gateway_post(
            port,
            "/v1/accounts",
            &admin_token,
            json!({"username": username, "password": "pass-word-123", "display_name": username,
                   "roles": [role], "scope": fixtures::COUNTY, "user_id": user_id}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let (supervisor, _) = sign_in(port, "sup-a", "pass-word-123").await;
    let (cadre, _) = sign_in(port, "cadre-a", "pass-word-123").await;
    let ask = |subject: &str| {
        json!({"client_id": "supervision", "client_secret": dev_service_secret("supervision"),
               "purpose": purposes::CALLBACK_PHONE, "subject_token": subject})
    };
    let (status, answer) = exchange(&url, ask(&supervisor)).await;
    assert_eq!(status, 200, "{answer}");
    let delegated = answer["access_token"].as_str().unwrap().to_owned();
    let claims = peek(&delegated);
    assert_eq!(claims["sub"], "sup-audit-1");
    assert_eq!(claims["act"]["sub"], "supervision");
    assert_eq!(claims["aud"], service_audience("registry"));

    let channel = Channel::from_shared(format!("http://127.0.0.1:{}", registry.grpc_port))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut as_supervisor =
        RegistryServiceClient::with_interceptor(channel, BearerInterceptor(delegated));
    let household = as_supervisor
        .get_household(GetHouseholdRequest {
            household_id: seed.household_ids[0].clone(),
            reveal: true,
            purpose: "督查回访 security-test".into(),
            reveal_fields: vec![],
        })
        .await
        .expect("the delegated read")
        .into_inner()
        .household
        .unwrap();
    assert_eq!(household.phone.len(), 11, "in full");
    let actors: Vec<String> = sqlx::query_scalar(
        "SELECT actor FROM registry.pii_access_audit WHERE purpose = '督查回访 security-test'",
    )
    .fetch_all(&registry.pool)
    .await
    .unwrap();
    assert_eq!(actors, ["sup-audit-1"]);

    // A cadre is not delegated a callback's phone.
    let (status, answer) = exchange(&url, ask(&cadre)).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (403, Some("subject_forbidden"))
    );
    // A delegated token is not a subject token.
    let (status, _) = exchange(&url, ask(answer_token(&url, &supervisor).await.as_str())).await;
    assert_eq!(status, 401);
    // Without a subject token nothing is issued; nor after sign-out.
    let mut bare = ask("");
    bare.as_object_mut().unwrap().remove("subject_token");
    assert_eq!(exchange(&url, bare).await.0, 400);
    let (status, _) = gateway_post(port, "/v1/auth/sign-out", &supervisor, json!({})).await;
    assert_eq!(status, 200);
    let (status, answer) = exchange(&url, ask(&supervisor)).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (401, Some("subject_unauthenticated"))
    );
    authority.stop().await;
    registry.stop().await;
}

async fn answer_token(url: &str, subject: &str) -> String {
    let (_, answer) = exchange(
        url,
        json!({"client_id": "supervision", "client_secret": dev_service_secret("supervision"),
               "purpose": purposes::CALLBACK_PHONE, "subject_token": subject}),
    )
    .await;
    answer["access_token"].as_str().unwrap().to_owned()
}

/// Caught: supervision minted its own registry tokens; a supervision that
/// cannot reach the authority (here: a wrong secret) went on regardless.
/// Now there is no such code path: without an issued token the assessment
/// (which reads the registry for the caller) fails, and nothing is read.
#[tokio::test]
async fn supervision_has_no_token_of_its_own_to_fall_back_on() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let database = unique_name("zft");
    let registry = TestRegistry::start_on(&database).await;
    let (url, authority) = start_authority(&database).await;
    let config = zoufang_supervision::config::Config {
        grpc_addr: "127.0.0.1:0".parse().unwrap(),
        registry_url: format!("http://127.0.0.1:{}", registry.grpc_port),
        sweep_interval_secs: 3600,
        consumer_queue: unique_name("zft"),
        token_exchange_url: url,
        service_secret: Some("not-the-secret".into()),
        service_secret_file: None,
        common: common_config(&database),
    };
    let queue = config.consumer_queue.clone();
    let app = zoufang_supervision::app::Application::build(config)
        .await
        .expect("builds");
    let (port, stop) = (app.grpc_port(), app.shutdown_token());
    let handle = tokio::spawn(app.run_until_stopped());
    let channel = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut sup = zoufang_proto::supervision::v1::supervision_service_client::SupervisionServiceClient::with_interceptor(
        channel,
        BearerInterceptor(token("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)),
    );
    let err = sup
        .get_cadre_assessment(zoufang_proto::supervision::v1::GetCadreAssessmentRequest {
            campaign_id: uuid::Uuid::new_v4().to_string(),
            region_code: fixtures::COUNTY.into(),
            weights: None,
        })
        .await
        .expect_err("no token, no registry read");
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    stop.cancel();
    zoufang_e2e::expect_clean_exit("supervision without its secret", handle).await;
    zoufang_e2e::delete_consumer_queues(&queue, &zoufang_bus::consumer::default_retry_delays())
        .await;
    authority.stop().await;
    registry.stop().await;
}

/// Caught: access tokens lived 30 minutes by default and any lifetime was
/// accepted; refresh had no absolute limit. Now ACCESS_TOKEN_SECS is at most
/// 300 (default 300) and a session older than SESSION_MAX_DAYS cannot refresh.
#[tokio::test]
async fn access_tokens_are_short_and_sessions_end_at_their_absolute_lifetime() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = gateway::gateway_config("unused", 9, 9, 9, 9, 9);
    config.access_token_secs = 600;
    let err = config.validate().unwrap_err();
    assert!(err.contains("ACCESS_TOKEN_SECS"), "{err}");
    use clap::Parser as _;
    let defaults = zoufang_gateway::config::Config::try_parse_from(["gateway"]).unwrap();
    assert_eq!(defaults.access_token_secs, 300);

    let database = unique_name("zft");
    let (_, authority) = start_authority(&database).await;
    let port = authority.http_port;
    let _ = gateway::ready_admin_token(port).await;
    let (access, refresh) = sign_in(port, "admin", gateway::ADMIN_PASSWORD).await;
    let exp = peek(&access)["exp"].as_i64().unwrap();
    assert!(
        exp <= chrono::Utc::now().timestamp() + 300,
        "at most five minutes"
    );
    let refresh_with = |t: String| async move {
        let resp = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/v1/auth/refresh"))
            .json(&json!({"refresh_token": t}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap_or(Value::Null))
    };
    let (status, body) = refresh_with(refresh).await;
    assert_eq!(status, 200, "{body}");
    let next = body["refresh_token"].as_str().unwrap().to_owned();
    // The session was signed in 31 days ago (the default limit is 30).
    let pool = sqlx::PgPool::connect(&format!("{}/{database}", zoufang_e2e::pg_server()))
        .await
        .unwrap();
    sqlx::query("UPDATE gateway.sessions SET created_at = now() - interval '31 days'")
        .execute(&pool)
        .await
        .unwrap();
    let (status, body) = refresh_with(next).await;
    assert_eq!(status, 401, "{body}");
    authority.stop().await;
}

/// Runs a check script of `scripts/` on `target`; (success, stderr).
fn check_script(script: &str, target: &std::path::Path) -> (bool, String) {
    let out = Command::new("bash")
        .arg(procs::workspace_root().join("scripts").join(script))
        .arg(target)
        .output()
        .expect("bash");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Caught (High 2): docker-compose published every service's gRPC and
/// admin port on all interfaces, and defaulted the secrets and the admin
/// password to published values. Now the compose file and the k8s
/// manifests pass their checks, and the checks fail on a published gRPC
/// port, a defaulted secret, a NodePort Service and the signing key given
/// to another service.
#[test]
fn compose_and_k8s_publish_no_grpc_port_and_default_no_secret() {
    let root = procs::workspace_root();
    let compose = std::fs::read_to_string(root.join("docker-compose.yml")).unwrap();
    let (ok, why) = check_script("check-compose.sh", &root.join("docker-compose.yml"));
    assert!(ok, "{why}");
    for secret in [
        "ZF_JWT_PUBLIC_KEY",
        "ZF_JWT_PRIVATE_KEY",
        "ZF_PII_KEY",
        "BOOTSTRAP_ADMIN_PASSWORD",
    ] {
        assert!(
            compose.contains(&format!("${{{secret}:?")),
            "{secret} is required"
        );
    }
    assert!(!compose.contains("zoufang-admin-1") && !compose.contains("zoufang-dev-secret"));

    // A copy beside the real deploy/ folder, one thing changed at a time.
    let dir = std::env::temp_dir().join(unique_name("zf-compose-"));
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(root.join("deploy"), dir.join("deploy")).unwrap();
    let published = compose.replacen(
        "      ADMIN_ADDR: 0.0.0.0:51051\n",
        "      ADMIN_ADDR: 0.0.0.0:51051\n    ports: [\"50051:50051\"]\n",
        1,
    );
    let defaulted = compose.replacen(
        "${BOOTSTRAP_ADMIN_PASSWORD:?",
        "${BOOTSTRAP_ADMIN_PASSWORD:-zoufang-admin-1}${UNUSED:?",
        1,
    );
    for (variant, want) in [
        (published, "publishes its gRPC port 50051"),
        (defaulted, "BOOTSTRAP_ADMIN_PASSWORD"),
    ] {
        assert_ne!(variant, compose);
        let file = dir.join("docker-compose.yml");
        std::fs::write(&file, variant).unwrap();
        let (ok, why) = check_script("check-compose.sh", &file);
        assert!(!ok && why.contains(want), "{want}: {why}");
    }

    let (ok, why) = check_script("check-k8s.sh", &root.join("deploy/k8s"));
    assert!(ok, "{why}");
    let k8s = dir.join("k8s");
    std::fs::create_dir_all(&k8s).unwrap();
    for entry in std::fs::read_dir(root.join("deploy/k8s")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), k8s.join(entry.file_name())).unwrap();
    }
    let registry = std::fs::read_to_string(k8s.join("registry.yaml")).unwrap();
    std::fs::write(
        k8s.join("registry.yaml"),
        registry.replacen("type: ClusterIP", "type: NodePort", 1),
    )
    .unwrap();
    let (ok, why) = check_script("check-k8s.sh", &k8s);
    assert!(!ok && why.contains("NodePort"), "{why}");
    std::fs::write(k8s.join("registry.yaml"), registry).unwrap();
    let issues = std::fs::read_to_string(k8s.join("issues.yaml")).unwrap();
    std::fs::write(
        k8s.join("issues.yaml"),
        issues.replacen(
            "                name: zoufang-secrets\n",
            "                name: zoufang-secrets\n            - secretRef:\n                name: zoufang-gateway-keys\n",
            1,
        ),
    )
    .unwrap();
    let (ok, why) = check_script("check-k8s.sh", &k8s);
    assert!(!ok && why.contains("only the gateway signs"), "{why}");
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn gateway_get(http_port: u16, path: &str, token: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{http_port}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Caught (High 5): the bootstrap admin's password skipped the policy (and
/// docker-compose defaulted it to a published one), and the account could
/// work with it for ever. Now a password failing the policy stops the start
/// (naming BOOTSTRAP_ADMIN_PASSWORD), and until the account has changed it,
/// its tokens reach only the password change and sign-out.
#[tokio::test]
async fn the_bootstrap_admin_must_pass_the_policy_and_change_its_password_first() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = gateway::gateway_config("unused", 9, 9, 9, 9, 9);
    config.bootstrap_admin_password = Some("admin".into());
    let err = config.validate().unwrap_err();
    assert!(err.contains("BOOTSTRAP_ADMIN_PASSWORD"), "{err}");

    let database = unique_name("zft");
    let (url, authority) = start_authority(&database).await;
    let port = authority.http_port;
    let first = gateway::admin_sign_in(port, gateway::BOOTSTRAP_PASSWORD)
        .await
        .expect("the bootstrap password signs in");
    let (status, body) = gateway_get(port, "/v1/auth/me", &first).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("password_change_required")),
        "{body}"
    );
    let (status, _) = gateway_post(
        port,
        "/v1/accounts",
        &first,
        json!({"username": "x1", "password": "pass-word-123", "display_name": "x",
               "roles": ["cadre"], "scope": fixtures::COUNTY}),
    )
    .await;
    assert_eq!(status, 403);
    // Nor may a service act for it.
    let (status, _) = exchange(
        &url,
        json!({"client_id": "supervision", "client_secret": dev_service_secret("supervision"),
               "purpose": purposes::ASSESSMENT, "subject_token": first}),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = gateway_post(
        port,
        "/v1/auth/password",
        &first,
        json!({"old_password": gateway::BOOTSTRAP_PASSWORD, "new_password": gateway::ADMIN_PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = gateway_get(port, "/v1/auth/me", &first).await;
    assert_eq!(
        status, 200,
        "after the change the same session works: {body}"
    );
    assert!(
        gateway::admin_sign_in(port, gateway::BOOTSTRAP_PASSWORD)
            .await
            .is_none()
    );
    authority.stop().await;
}

/// Caught (Low): server reflection listed every RPC and message to anyone
/// who connected, without a token. Now it needs a token like every RPC;
/// health stays open for probes.
#[tokio::test]
async fn reflection_needs_a_token_and_health_stays_open() {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest,
    };
    let registry = TestRegistry::start().await;
    let channel = Channel::from_shared(format!("http://127.0.0.1:{}", registry.grpc_port))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let list = || {
        futures::stream::iter(vec![ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        }])
    };
    let err = ServerReflectionClient::new(channel.clone())
        .server_reflection_info(list())
        .await
        .expect_err("reflection without a token");
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let bearer = BearerInterceptor(token("ops", &[roles::COUNTY_ADMIN], ""));
    let mut answers = ServerReflectionClient::with_interceptor(channel.clone(), bearer)
        .server_reflection_info(list())
        .await
        .expect("reflection with a token")
        .into_inner();
    let first = answers.message().await.expect("answer").expect("one");
    assert!(
        format!("{first:?}").contains("RegistryService"),
        "{first:?}"
    );
    let health = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health without a token");
    assert_eq!(health.into_inner().status, 1, "SERVING");
    registry.stop().await;
}
