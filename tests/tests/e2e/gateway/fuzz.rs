//! The OpenAPI document fuzzed with schemathesis (a property-based API
//! fuzzer from PyPI; `scripts/test.sh` installs it into `.run/venv`): every
//! documented operation, with generated valid and invalid requests, signed
//! in as the county admin over a seeded county; no request may get a 5xx.
use std::process::Command;

use zoufang_core::auth::roles;
use zoufang_e2e::{fixtures, gateway::TestGateway};

fn schemathesis() -> String {
    if let Ok(path) = std::env::var("ZF_SCHEMATHESIS") {
        return path;
    }
    let local = concat!(env!("CARGO_MANIFEST_DIR"), "/../.run/venv/bin/schemathesis");
    if std::path::Path::new(local).exists() {
        return local.to_owned();
    }
    panic!(
        "schemathesis is not installed: run scripts/test.sh (it installs it into .run/venv), \
         or pip install schemathesis and set ZF_SCHEMATHESIS"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_generated_request_gets_a_server_error() {
    let stack = TestGateway::start().await;
    let mut registry = stack
        .registry
        .client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    fixtures::seed(&mut registry).await;
    let token = stack.admin_token().await;
    let url = stack.url("/openapi.json");
    let bin = schemathesis();
    let report = std::env::temp_dir().join(format!("zoufang-fuzz-{}.xml", stack.port));
    let output = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args([
                "run",
                &url,
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "8",
                "--max-time",
                "150",
                "--phases",
                "examples,coverage,fuzzing",
                "--seed",
                "20261129",
                // One worker: hypothesis on Python 3.11 crashes inside the
                // fuzzer itself ("AST constructor recursion depth mismatch")
                // when several workers generate query parameters at once.
                "--workers",
                "1",
                "--request-timeout",
                "30",
                "--no-shrink",
                // Signing out or disabling would end the fuzzer's own session.
                "--exclude-path",
                "/v1/auth/sign-out",
                // DELETE is the console's sign-out.
                "--exclude-path",
                "/v1/auth/session",
                // The event stream never ends by itself.
                "--exclude-path",
                "/v1/notify/inbox/stream",
                "--exclude-path-regex",
                "/v1/accounts/.*/disable",
                "--header",
                &format!("Authorization: Bearer {token}"),
                "--report",
                "junit",
                "--report-junit-path",
                &report.to_string_lossy(),
            ])
            .output()
            .expect("run schemathesis")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "schemathesis found server errors (or failed to run):\n{stdout}\n{stderr}"
    );
    stack.stop().await;
}
