//! One household's whole file (一户一档) through the gateway: its visits
//! (registry), ledger items (issues), petition cases (petition) and
//! callbacks (supervision), each listed by its owning service filtered by
//! household id — another household's never among them — and none of them
//! to a caller outside the household's scope. Then its edit and history,
//! and a reveal that must state its purpose.
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;
use zoufang_core::auth::roles;
use zoufang_e2e::{eventually, fake_http::FakeHttp, fixtures, gateway::TestGateway, unique_name};
use zoufang_proto::{
    petition::v1::RegisterSourceRequest,
    supervision::v1::{CreateTeamRequest, SamplingPolicy, SetSamplingPolicyRequest},
};

/// A field of a JSON answer, by its proto name or its lowerCamelCase JSON
/// name (the gateway's naming of JSON fields is changing).
fn field<'a>(v: &'a Value, name: &str) -> &'a Value {
    if let Some(x) = v.get(name) {
        return x;
    }
    let mut camel = String::new();
    let mut up = false;
    for c in name.chars() {
        if c == '_' {
            up = true;
        } else if up {
            camel.extend(c.to_uppercase());
            up = false;
        } else {
            camel.push(c);
        }
    }
    v.get(&camel).unwrap_or(&Value::Null)
}

/// The list `key` of an answer (absent when empty).
fn list(v: &Value, key: &str) -> Vec<Value> {
    field(v, key).as_array().cloned().unwrap_or_default()
}

/// The household ids of a list's entries.
fn households_of(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| field(e, "household_id").as_str().unwrap_or("").to_owned())
        .collect()
}

/// The four parts of the file page: (path, request, list key).
fn file_requests(household_id: &str) -> [(&'static str, Value, &'static str); 4] {
    [
        (
            "/v1/registry/ListVisits",
            json!({"household_id": household_id}),
            "visits",
        ),
        (
            "/v1/issues/ListIssues",
            json!({"household_id": household_id}),
            "issues",
        ),
        (
            "/v1/petition/ListCases",
            json!({"household_id": household_id}),
            "cases",
        ),
        (
            "/v1/supervision/ListCallbacks",
            json!({"household_id": household_id}),
            "callbacks",
        ),
    ]
}

/// Sends a petition case about the person with `id_number`, signed as
/// `source` with `secret`, to the bridge's webhook.
async fn send_case(
    stack: &TestGateway,
    source: &str,
    secret: &str,
    id_number: &str,
) -> (u16, Value) {
    let case = json!({
        "external_id": unique_name("XF-"),
        "source_system": source,
        "kind": "petition",
        "channel": "网上",
        "sequence": 1,
        "petitioner": {"name": "唐某某", "id_number": id_number, "phone": "13912345678"},
        "region_code": fixtures::VILLAGES[0],
        "content": "反映宅基地纠纷",
        "received_at": (Utc::now() - chrono::Duration::hours(2)).to_rfc3339(),
    });
    let body = serde_json::to_vec(&case).expect("json");
    let ts = Utc::now().timestamp();
    let resp = stack
        .http()
        .post(stack.petition.webhook_url())
        .header("content-type", "application/json")
        .header("x-zoufang-source", source)
        .header("x-zoufang-timestamp", ts.to_string())
        .header(
            "x-zoufang-signature",
            zoufang_bus::signing::sign(secret.as_bytes(), ts, &body),
        )
        .body(body)
        .send()
        .await
        .expect("webhook");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn one_households_file_comes_back_filtered_and_only_to_callers_in_scope() {
    let stack = TestGateway::start().await;
    let mut registry = stack
        .registry
        .client("seed", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    let seed = fixtures::seed(&mut registry).await;
    // Two households of one village, each with a known ID number.
    let mut ours = Vec::new();
    for n in [31, 32] {
        let household_id = Uuid::new_v4().to_string();
        let req = fixtures::household_request(&household_id, fixtures::VILLAGES[0], n);
        let id_number = req.id_number.clone();
        registry.register_household(req).await.expect("register");
        ours.push((household_id, id_number));
    }
    let (household, neighbour) = (&ours[0].0, &ours[1].0);

    // Supervision checks every visit of the campaign.
    let mut sup = stack
        .supervision
        .supervision_client("seed", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    sup.create_team(CreateTeamRequest {
        team_id: Uuid::new_v4().to_string(),
        name: "白鹤铺镇督查组".into(),
        region_code: "430426104".into(),
        member_ids: vec!["sup-town".into()],
    })
    .await
    .expect("team");
    sup.set_sampling_policy(SetSamplingPolicyRequest {
        campaign_id: seed.campaign_id.clone(),
        region_code: fixtures::TOWNSHIP.into(),
        policy: Some(SamplingPolicy {
            item_share_bp: 10_000,
            visit_share_bp: 10_000,
            min_visits_per_cadre: 1,
            high_risk_threshold: 60,
            high_risk_visit_share_bp: 10_000,
            due_days: 3,
            max_attempts: 3,
        }),
    })
    .await
    .expect("policy");

    // A visit to each household (two ledger items each, a callback each).
    for (household_id, _) in &ours {
        registry
            .record_visit(fixtures::visit_request(&seed, household_id))
            .await
            .expect("visit");
    }
    // A petition case about each household's head, from a registered source.
    let answers = FakeHttp::start().await;
    let source = unique_name("xinfang-");
    let secret = format!("secret-{}", Uuid::new_v4().simple());
    stack
        .petition
        .client("seed", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await
        .register_source(RegisterSourceRequest {
            source_system: source.clone(),
            display_name: "祁东县信访信息系统".into(),
            region_code: fixtures::COUNTY.into(),
            callback_url: answers.url("/answers"),
            secret: secret.clone(),
        })
        .await
        .expect("source");
    for (_, id_number) in &ours {
        let (status, body) = send_case(&stack, &source, &secret, id_number).await;
        assert_eq!(status, 201, "{body}");
    }

    let admin = stack.admin_token().await;
    let town = stack
        .account(
            &admin,
            "town104",
            &[roles::TOWNSHIP_ADMIN],
            "430426104",
            "town104",
        )
        .await;
    let outsider = stack
        .account(
            &admin,
            "town105",
            &[roles::TOWNSHIP_ADMIN, roles::SUPERVISOR],
            "430426105",
            "town105",
        )
        .await;

    // The township admin sees each household's file, each part filtered to
    // it: its visit, at least three items (two from the visit, one from the
    // case), its case, at least one callback (the visit's) — and nothing of
    // the other household's, whose file holds as much.
    let want = [1, 3, 1, 1];
    for (this, that) in [(household, neighbour), (neighbour, household)] {
        for ((path, body, key), n) in file_requests(this).into_iter().zip(want) {
            let last = std::sync::Mutex::new(Value::Null);
            let entries = eventually(Duration::from_secs(60), || async {
                let (status, reply) = stack.post(path, Some(&town), body.clone()).await;
                *last.lock().unwrap() = reply.clone();
                let entries = list(&reply, key);
                (status == 200 && entries.len() >= n).then_some(entries)
            })
            .await
            .unwrap_or_else(|| panic!("{path}: {}", last.lock().unwrap()));
            if key == "visits" || key == "cases" {
                assert_eq!(entries.len(), n, "{path}: {entries:?}");
            }
            assert!(
                households_of(&entries).iter().all(|h| h == this),
                "{path} answered another household's: {entries:?}"
            );
            assert!(!format!("{entries:?}").contains(that.as_str()));
        }
    }

    // Callbacks are blind: the supervisor they are assigned to sees them,
    // another supervisor of the township does not, a cadre may not list.
    let callbacks_of = |token: String| {
        let body = json!({"household_id": household});
        let stack = &stack;
        async move {
            stack
                .post("/v1/supervision/ListCallbacks", Some(&token), body)
                .await
        }
    };
    let assignee = stack
        .account(
            &admin,
            "sup-town",
            &[roles::SUPERVISOR],
            "430426104",
            "sup-town",
        )
        .await;
    let (status, reply) = callbacks_of(assignee).await;
    assert_eq!(status, 200, "{reply}");
    let mine = list(&reply, "callbacks");
    assert!(!mine.is_empty(), "{reply}");
    assert!(
        mine.iter()
            .all(|c| field(c, "supervisor_id") == &json!("sup-town")),
        "{reply}"
    );
    let colleague = stack
        .account(
            &admin,
            "sup-two",
            &[roles::SUPERVISOR],
            "430426104",
            "sup-two",
        )
        .await;
    let (status, reply) = callbacks_of(colleague).await;
    assert_eq!(status, 200, "{reply}");
    assert!(list(&reply, "callbacks").is_empty(), "{reply}");
    let cadre = stack
        .account(&admin, "cadre-x", &[roles::CADRE], "430426104", "cadre-x")
        .await;
    assert_eq!(callbacks_of(cadre).await.0, 403);

    // A caller outside the household's scope gets none of it.
    for (path, body, key) in file_requests(household) {
        let (status, reply) = stack.post(path, Some(&outsider), body).await;
        assert!(
            matches!(status, 200 | 403 | 404),
            "{path}: {status} {reply}"
        );
        assert!(list(&reply, key).is_empty(), "{path} leaked: {reply}");
        assert!(
            !reply.to_string().contains(household.as_str()),
            "{path}: {reply}"
        );
    }
    let (status, _) = stack
        .post(
            "/v1/registry/GetHousehold",
            Some(&outsider),
            json!({"household_id": household}),
        )
        .await;
    assert_eq!(status, 404);

    // The file's header: an edit from the version read, then its history.
    let (status, h) = stack
        .post(
            "/v1/registry/GetHousehold",
            Some(&town),
            json!({"household_id": household}),
        )
        .await;
    assert_eq!(status, 200, "{h}");
    let version = field(field(&h, "household"), "version").clone();
    assert_eq!(version, json!("1"), "int64 travels as a string: {h}");
    let (status, edited) = stack
        .post(
            "/v1/registry/UpdateHousehold",
            Some(&town),
            json!({"household_id": household, "expected_version": "1",
                   "member_count": 5, "note": "新添一口"}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        field(field(&edited, "household"), "version"),
        &json!("2"),
        "{edited}"
    );
    let (status, stale) = stack
        .post(
            "/v1/registry/UpdateHousehold",
            Some(&town),
            json!({"household_id": household, "expected_version": "1", "address": "别处"}),
        )
        .await;
    assert_eq!(status, 409, "{stale}");
    assert!(stale.to_string().contains("编辑冲突"), "{stale}");
    let (status, bad) = stack
        .post(
            "/v1/registry/UpdateHousehold",
            Some(&town),
            json!({"household_id": household, "expected_version": "2", "member_count": 99}),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad.to_string().contains("member_count"), "{bad}");
    let (status, history) = stack
        .post(
            "/v1/registry/ListHouseholdHistory",
            Some(&town),
            json!({"household_id": household}),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    let edits = list(&history, "edits");
    assert_eq!(edits.len(), 1, "{history}");
    let changes = list(&edits[0], "changes");
    assert_eq!(field(&changes[0], "label"), &json!("家庭人口"));
    assert_eq!(field(&changes[0], "old_value"), &json!("4"));
    assert_eq!(field(&changes[0], "new_value"), &json!("5"));

    // A reveal without a purpose is refused naming the field; with one it
    // shows the phone.
    let (status, refused) = stack
        .post(
            "/v1/registry/GetHousehold",
            Some(&town),
            json!({"household_id": household, "reveal": true, "reveal_fields": ["phone"]}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("purpose"), "{refused}");
    assert!(refused.to_string().contains("用途"), "{refused}");
    let (status, shown) = stack
        .post(
            "/v1/registry/GetHousehold",
            Some(&town),
            json!({"household_id": household, "reveal": true, "reveal_fields": ["phone"],
                   "purpose": "核实联系电话"}),
        )
        .await;
    assert_eq!(status, 200, "{shown}");
    let phone = field(field(&shown, "household"), "phone")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(phone.len() == 11 && !phone.contains('*'), "{shown}");
    stack.stop().await;
}
