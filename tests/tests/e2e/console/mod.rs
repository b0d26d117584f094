//! The web console (管理端) in a real browser (issue 20): Debian's Chromium
//! driven by playwright-core (`web/e2e/run.mjs`) against the whole stack,
//! served by the gateway exactly as a release serves it (the console is
//! embedded at build time). The stack holds a small demo county and
//! campaign made by `zfdemo` through the APIs, and one account per role.
//! Each scenario (`web/e2e/scenarios/<name>.mjs`) is its own browser run;
//! screenshots of every page land in `.run/screenshots/` (kept from the
//! run, listed at the end).
//!
//! Chromium and the Chinese fonts come from Debian's packages (`chromium`,
//! `fonts-noto-cjk`): `scripts/test.sh` installs them when missing, as
//! `.ci/run` does; without them this test fails saying so.
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use serde_json::{Value, json};
use zoufang_core::auth::{DEV_JWT_PRIVATE_KEY_PEM, DEV_JWT_PUBLIC_KEY_PEM, roles};
use zoufang_demo::{self as demo, Config, Totals};
use zoufang_e2e::gateway::{ADMIN_PASSWORD, TestGateway};

/// Every account's password in the console tests.
const PASSWORD: &str = "pass-word-123";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository")
        .to_path_buf()
}

/// Where the screenshots go.
pub fn screenshot_dir() -> PathBuf {
    repo_root().join(".run/screenshots")
}

fn demo_config(stack: &TestGateway) -> Config {
    let url = |p: u16| format!("http://127.0.0.1:{p}");
    Config {
        registry_url: url(stack.registry.grpc_port),
        issues_url: url(stack.issues.grpc_port),
        supervision_url: url(stack.supervision.grpc_port),
        petition_url: url(stack.petition.service.grpc_port),
        gateway_url: url(stack.port),
        jwt_private_key: DEV_JWT_PRIVATE_KEY_PEM.into(),
        jwt_public_key: DEV_JWT_PUBLIC_KEY_PEM.into(),
        seed: 20,
        households: 60,
        timeout: Duration::from_secs(120),
        verbose: false,
    }
}

/// The stack, its demo campaign, and what the scenarios are told.
pub struct Console {
    pub stack: TestGateway,
    pub totals: Totals,
    /// Given to every scenario as JSON (`seed` in the scenario).
    pub seed: Value,
}

/// A first child of `parent` in the registry (a township of the county, a
/// village of a township).
async fn first_child(stack: &TestGateway, token: &str, parent: &str) -> Value {
    let (status, body) = stack
        .post(
            "/v1/registry/ListRegions",
            Some(token),
            json!({"parent_code": parent}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["regions"][0].clone()
}

/// The first cadre registered in `region`.
async fn first_cadre(stack: &TestGateway, token: &str, region: &str) -> Value {
    let (status, body) = stack
        .post(
            "/v1/registry/ListCadres",
            Some(token),
            json!({"region_code": region}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["cadres"][0].clone()
}

async fn account(
    stack: &TestGateway,
    admin: &str,
    username: &str,
    display_name: &str,
    role: &str,
    scope: &str,
    user_id: &str,
) -> Value {
    let (status, body) = stack
        .post(
            "/v1/accounts",
            Some(admin),
            json!({"username": username, "password": PASSWORD, "display_name": display_name,
                   "roles": [role], "scope": scope, "user_id": user_id}),
        )
        .await;
    assert_eq!(status, 201, "create account {username}: {body}");
    json!({"username": username, "password": PASSWORD, "display_name": display_name,
           "role": role, "scope": scope, "user_id": user_id})
}

impl Console {
    pub async fn start() -> Self {
        let stack = TestGateway::start().await;
        let totals = demo::run(&demo_config(&stack))
            .await
            .expect("the demo campaign");
        let admin = stack.admin_token().await;
        let county = totals.region_code.clone();
        let township = first_child(&stack, &admin, &county).await;
        let township_code = township["code"].as_str().expect("township code").to_owned();
        let village = first_child(&stack, &admin, &township_code).await;
        let prefix = township_code.trim_end_matches("000").to_owned();
        let cadre = first_cadre(&stack, &admin, &prefix).await;
        let cadre_id = cadre["cadre_id"]
            .as_str()
            .expect("a cadre of the township")
            .to_owned();
        let county_prefix = county.trim_end_matches('0').to_owned();
        let accounts = json!({
            "admin": {"username": "admin", "password": ADMIN_PASSWORD},
            "leader": account(&stack, &admin, "leader", "县领导", roles::COUNTY_ADMIN, &county_prefix, "leader-1").await,
            "township": account(&stack, &admin, "township", "乡镇管理员", roles::TOWNSHIP_ADMIN, &prefix, "township-1").await,
            "supervisor": account(&stack, &admin, "supervisor", "督查员", roles::SUPERVISOR, &county_prefix, "supervisor-1").await,
            "cadre": account(&stack, &admin, "cadre", cadre["name"].as_str().unwrap_or("干部"), roles::CADRE, &prefix, &cadre_id).await,
        });
        let seed = json!({
            "gateway_url": format!("http://127.0.0.1:{}", stack.port),
            "accounts": accounts,
            "campaign_id": totals.campaign_id,
            "county": {"code": county, "prefix": county_prefix},
            "township": township,
            "village": village,
            "figures": totals.figures_json(),
            "screenshots": screenshot_dir(),
        });
        Self {
            stack,
            totals,
            seed,
        }
    }

    /// Runs one scenario in Chromium; its output is printed, and a failure
    /// names the scenario with the end of its output.
    pub async fn scenario(&self, name: &str, extra: Value) {
        let dir = std::env::temp_dir().join(format!("zf-console-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::create_dir_all(screenshot_dir()).expect("screenshot dir");
        let mut seed = self.seed.clone();
        seed["extra"] = extra;
        let seed_file = dir.join("seed.json");
        std::fs::write(&seed_file, seed.to_string()).expect("seed file");
        let web = repo_root().join("web");
        let child = tokio::process::Command::new("node")
            .arg(web.join("e2e/run.mjs"))
            .arg(name)
            .arg(&seed_file)
            .current_dir(&web)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (install Node.js 20)");
        let output = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("scenario {name} ran over 300 s"))
            .expect("scenario output");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        println!("--- scenario {name} ---\n{stdout}{stderr}");
        assert!(
            output.status.success(),
            "scenario {name} failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Every scenario on one stack, in an order where the later ones may
/// change what the earlier ones read (sign-out comes last).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_console_in_a_browser() {
    let console = Console::start().await;
    for name in SCENARIOS {
        console.scenario(name, json!({})).await;
    }
    let mut shots: Vec<String> = std::fs::read_dir(screenshot_dir())
        .expect("screenshots")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    shots.sort();
    println!("screenshots in .run/screenshots/: {}", shots.join(", "));
    assert!(!shots.is_empty(), "no screenshot was taken");
    let _ = console.totals;
    console.stack.stop().await;
}

/// The scenarios, in order (each a file in `web/e2e/scenarios/`).
const SCENARIOS: &[&str] = &[
    "dashboard",
    "petitions",
    "imports",
    "ledger",
    "callback",
    "households",
    "campaigns",
    "people",
    "access",
];
