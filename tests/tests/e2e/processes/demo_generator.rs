//! The demo-data generator (`zfdemo`) against every service and the
//! gateway in-process: a small county and campaign from a seed, whose
//! totals the campaign summary (`GET /v1/reports/summary`) reports exactly,
//! figure by figure; and the same seed again doubles nothing.
use std::time::Duration;

use serde_json::Value;
use zoufang_core::auth::{DEV_JWT_PRIVATE_KEY_PEM, DEV_JWT_PUBLIC_KEY_PEM};
use zoufang_demo::{self as demo, Config, Totals};
use zoufang_e2e::gateway::TestGateway;

fn config(stack: &TestGateway) -> Config {
    let url = |p: u16| format!("http://127.0.0.1:{p}");
    Config {
        registry_url: url(stack.registry.grpc_port),
        issues_url: url(stack.issues.grpc_port),
        supervision_url: url(stack.supervision.grpc_port),
        petition_url: url(stack.petition.service.grpc_port),
        gateway_url: url(stack.port),
        jwt_private_key: DEV_JWT_PRIVATE_KEY_PEM.into(),
        jwt_public_key: DEV_JWT_PUBLIC_KEY_PEM.into(),
        seed: 7,
        households: 200,
        timeout: Duration::from_secs(90),
        verbose: true,
    }
}

async fn summary(stack: &TestGateway, token: &str, t: &Totals) -> Value {
    let (status, body) = stack
        .get(
            &format!(
                "/v1/reports/summary?region_code={}&campaign_id={}",
                t.region_code, t.campaign_id
            ),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Every figure of the report equals the generator's.
fn assert_matches(t: &Totals, report: &Value, what: &str) {
    let (compared, diffs) = demo::diff_figures(&t.figures_json(), report);
    assert!(
        diffs.is_empty(),
        "{what}: the report differs from the generator's totals:\n{}",
        diffs.join("\n")
    );
    // visits 9 + 5 modes, help 5, materials ≥ 2, ledger ≥ 19, callbacks 10.
    assert!(compared >= 50, "{what}: only {compared} figures compared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_summary_reports_exactly_the_generated_totals_and_a_rerun_doubles_nothing() {
    let stack = TestGateway::start().await;
    let config = config(&stack);
    let first = demo::run(&config).await.expect("generate the demo");
    eprintln!("{}", first.table());

    // A campaign with something in every part of the summary.
    let (v, l, c, p) = (
        &first.visits,
        &first.ledger,
        &first.callbacks,
        &first.petition,
    );
    assert_eq!(v.households_total, 200);
    assert!(
        v.households_visited > 150 && v.households_visited < 200,
        "{v:?}"
    );
    assert!(
        v.by_mode.iter().filter(|n| **n > 0).count() >= 4,
        "most modes occur: {v:?}"
    );
    assert!(v.overnight_stays > 0 && first.help.poor_households_helped > 0);
    assert_eq!(v.disputed_visits, 1, "one visit is denied on callback");
    assert!(l.problems > 0 && l.suggestions > 0 && l.disputes > 0 && l.petitions > 0);
    assert!(l.resolved_on_spot > 0 && l.resolved_in_time > 0);
    assert!(l.escalated > 0 && l.explained > 0 && l.open > 0);
    assert!(l.disputes_mediated > 0 && l.dispute_households >= l.disputes_mediated);
    assert_eq!(l.reopened, 1, "one resident is not satisfied");
    assert!(l.verified > 0 && l.walk_in > 0);
    assert!(c.done > 0 && c.visits_checked > 0 && c.visits_not_confirmed == 1);
    assert_eq!(c.unsatisfied, 1);
    assert!(p.cases >= 3 && p.accepted == p.cases - 1 && p.ledger_items == p.cases);
    assert_eq!(
        p.matched_households,
        p.cases - 1,
        "one petitioner is unregistered"
    );

    // The county summary through the gateway: exactly the generated totals.
    let admin = stack.admin_token().await;
    let report = summary(&stack, &admin, &first).await;
    assert_eq!(
        report["campaign"]["campaign_id"],
        first.campaign_id.as_str()
    );
    assert_eq!(report["region_name"], "祁东县");
    assert_matches(&first, &report, "first run");
    assert_eq!(
        report["rows"].as_array().map(Vec::len),
        Some(first.setup.townships as usize),
        "a row per township"
    );
    let services = demo::check_with_services(&config, &first)
        .await
        .expect("read the services");
    assert!(services.is_empty(), "{services:?}");

    // The same seed again: the same totals, and the report unchanged.
    let second = demo::run(&config).await.expect("generate the demo again");
    assert_eq!(second, first, "a rerun with the same seed doubles nothing");
    let again = summary(&stack, &admin, &first).await;
    assert_matches(&second, &again, "second run");
    for part in ["visits", "help", "materials", "ledger", "callbacks"] {
        assert_eq!(again[part], report[part], "{part} unchanged by the rerun");
    }
    stack.stop().await;
}
