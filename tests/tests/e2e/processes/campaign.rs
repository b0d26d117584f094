//! The whole stack as separate processes (the real binaries, as a county
//! runs them), walking a campaign: the demo generator sets up a county and
//! simulates a campaign through the services' APIs — visits with raised
//! items, on-the-spot and time-limited resolutions, escalations, callbacks
//! with one unsatisfied resident and one unconfirmed visit, petition cases —
//! and the gateway's campaign summary must report exactly its totals. Then
//! an old petition case arrives by the signed webhook, goes overdue in the
//! ledger, and the township's admin is told of the case and of the overdue
//! item by the escalation ladder.
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use zoufang_bus::signing;
use zoufang_core::auth::{DEV_JWT_PRIVATE_KEY_PEM, DEV_JWT_PUBLIC_KEY_PEM};
use zoufang_demo::{self as demo, Config};
use zoufang_e2e::{
    eventually,
    procs::{Stack, StackOptions},
};

fn config(stack: &Stack) -> Config {
    let url = |p: u16| format!("http://127.0.0.1:{p}");
    Config {
        registry_url: stack.registry.grpc_url(),
        issues_url: stack.issues.grpc_url(),
        supervision_url: stack.supervision.grpc_url(),
        petition_url: stack.petition.grpc_url(),
        gateway_url: url(stack.gateway_port()),
        jwt_private_key: DEV_JWT_PRIVATE_KEY_PEM.into(),
        jwt_public_key: DEV_JWT_PUBLIC_KEY_PEM.into(),
        seed: 31,
        households: 150,
        timeout: Duration::from_secs(120),
        verbose: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_campaign_on_the_real_binaries_ends_in_a_summary_with_exactly_its_figures() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let stack = Stack::start_with(
        StackOptions::default()
            .service_env("issues", "SWEEP_INTERVAL_SECS", "1")
            .service_env("notify", "ESCALATION_STEP_SECS", "1"),
    )
    .await;
    let config = config(&stack);
    let totals = demo::run(&config).await.expect("the demo campaign");
    eprintln!("{}", totals.table());

    // The summary through the gateway: every figure exactly the generated one.
    let admin = stack.admin_token().await;
    let (status, report) = stack
        .get(
            &format!(
                "/v1/reports/summary?region_code={}&campaign_id={}",
                totals.region_code, totals.campaign_id
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let (compared, diffs) = demo::diff_figures(&totals.figures_json(), &report);
    assert!(
        diffs.is_empty(),
        "the report differs:\n{}",
        diffs.join("\n")
    );
    assert!(compared >= 50, "only {compared} figures compared");
    let (l, c) = (&totals.ledger, &totals.callbacks);
    assert!(l.resolved_on_spot > 0 && l.resolved_in_time > 0 && l.escalated > 0);
    assert_eq!((c.unsatisfied, c.visits_not_confirmed), (1, 1));
    assert!(totals.petition.cases > 0);

    // A township admin in notify's directory, for the town of a village.
    let regions = stack
        .post(
            "/v1/registry/ListRegions",
            Some(&admin),
            json!({"parent_code": format!("{}000000", demo::COUNTY)}),
        )
        .await;
    let town = regions.1["regions"]
        .as_array()
        .and_then(|r| r.first())
        .and_then(|r| r["code"].as_str())
        .unwrap_or_else(|| panic!("a township: {}", regions.1))
        .to_owned();
    let village = format!("{}201", &town[..9]);
    let town_admin = format!("town-admin-{}", &town[..9]);
    let (s, body) = stack
        .post(
            "/v1/notify/UpsertRecipient",
            Some(&admin),
            json!({"recipient": {"recipient_id": town_admin, "name": "乡镇管理员",
                   "roles": ["township_admin"], "region_code": town}}),
        )
        .await;
    assert_eq!(s, 200, "{body}");

    // An old petition case by the signed webhook: received 16 days ago and
    // never accepted, so the ledger item is overdue at once.
    let secret = "campaign-test-secret-0001";
    let (s, body) = stack
        .post(
            "/v1/petition/RegisterSource",
            Some(&admin),
            json!({"source_system": "qidong-xinfang", "display_name": "祁东县信访信息系统",
                   "region_code": demo::COUNTY, "callback_url": "", "secret": secret}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let case = json!({
        "external_id": "XF-OLD-1", "source_system": "qidong-xinfang", "kind": "petition",
        "channel": "来信", "sequence": 1,
        "petitioner": {"name": "唐某", "id_number": "", "phone": ""},
        "region_code": village, "content": "反映村道多年未修",
        "received_at": (Utc::now() - chrono::Duration::days(16)).to_rfc3339(),
        "attachments": []
    });
    let body = serde_json::to_vec(&case).expect("json");
    let ts = Utc::now().timestamp();
    let posted = stack
        .http()
        .post(format!(
            "http://127.0.0.1:{}/v1/cases",
            stack.petition.port("webhook")
        ))
        .header("content-type", "application/json")
        .header("x-zoufang-source", "qidong-xinfang")
        .header("x-zoufang-timestamp", ts.to_string())
        .header(
            "x-zoufang-signature",
            signing::sign(secret.as_bytes(), ts, &body),
        )
        .body(body)
        .send()
        .await
        .expect("post the case");
    assert_eq!(posted.status(), 201);
    let posted: Value = posted.json().await.expect("json");
    let issue_id = posted["issue_id"].as_str().expect("issue id").to_owned();

    // The township admin hears of the case, then of the overdue item once
    // the ladder reaches the township.
    let pool = stack.pool().await;
    let kinds = eventually(Duration::from_secs(60), || {
        let (pool, town_admin, issue_id) = (pool.clone(), town_admin.clone(), issue_id.clone());
        async move {
            let kinds: Vec<String> = sqlx::query_scalar(
                "SELECT kind FROM notify.notifications WHERE recipient_id = $1
                 AND (subject_id = $2 OR body LIKE '%反映村道多年未修%' OR title LIKE '%XF-OLD-1%')
                 ORDER BY created_at",
            )
            .bind(&town_admin)
            .bind(&issue_id)
            .fetch_all(&pool)
            .await
            .ok()?;
            (kinds.iter().any(|k| k.contains("petition"))
                && kinds.iter().any(|k| k.contains("overdue")))
            .then_some(kinds)
        }
    })
    .await;
    let all: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT kind, subject_id, title FROM notify.notifications WHERE recipient_id = $1",
    )
    .bind(&town_admin)
    .fetch_all(&pool)
    .await
    .expect("notifications");
    assert!(
        kinds.is_some(),
        "the township admin was not told of the case and the overdue item; got {all:?}"
    );
    let statuses = stack.stop().await;
    for (name, status) in statuses {
        assert!(
            status.is_some_and(|s| s.success()),
            "{name} did not stop cleanly: {status:?}"
        );
    }
}
