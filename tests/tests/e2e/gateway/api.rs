//! The gateway against the real services: sign-in, lock-out, refresh,
//! password change, disabled accounts; a township admin reading another
//! township through every Get and List endpoint; the OpenAPI document true
//! to the routes.
use serde_json::{Value, json};
use uuid::Uuid;
use zoufang_core::auth::roles;
use zoufang_e2e::{fixtures, gateway::TestGateway};
use zoufang_gateway::door::rpc::Catalog;
use zoufang_proto::catalogue;
use zoufang_proto::{
    common::v1::ItemKind,
    issues::v1::{CreateIssueRequest, IssueSource},
    notify::v1::{Recipient, UpsertRecipientRequest},
    registry::v1::{
        CadreUnit, CampaignStatus, CompletenessPolicy, CreateCampaignRequest, RegisterCadreRequest,
    },
    supervision::v1::{CreateInspectionRequest, FindingKind},
};

#[tokio::test]
async fn sign_in_lock_out_refresh_password_change_and_disable() {
    let stack = TestGateway::start().await;
    let admin = stack.admin_token().await;
    let (status, me) = stack.get("/v1/auth/me", Some(&admin)).await;
    assert_eq!(status, 200);
    assert_eq!(me["roles"], json!(["county_admin"]));

    // A township admin creates a cadre in their township, not in another.
    let town = stack
        .account(
            &admin,
            "town104",
            &[roles::TOWNSHIP_ADMIN],
            "430426104",
            "town104",
        )
        .await;
    let body = |user: &str, scope: &str, role: &str| {
        json!({"username": user, "password": "cadre-pass-1", "display_name": "干部",
               "roles": [role], "scope": scope})
    };
    let (s, created) = stack
        .post(
            "/v1/accounts",
            Some(&town),
            body("cadre1", "430426104201", "cadre"),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let (s, _) = stack
        .post(
            "/v1/accounts",
            Some(&town),
            body("cadre2", "430426105201", "cadre"),
        )
        .await;
    assert_eq!(s, 403, "another township");
    let (s, _) = stack
        .post(
            "/v1/accounts",
            Some(&town),
            body("boss", "430426104", "county_admin"),
        )
        .await;
    assert_eq!(s, 403, "a township admin cannot grant county_admin");
    let (s, e) = stack
        .post(
            "/v1/accounts",
            Some(&town),
            body("cadre3", "430426104201", "cadre")
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("password".into(), json!("short"));
                    Value::Object(o)
                })
                .unwrap_or_default(),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(e["field_errors"][0]["field"], "password");

    // Wrong passwords: 401 five times, and the fifth locks: then even the right
    // password is not checked and gets the same 401 (issue 18: no enumeration).
    for _ in 0..5 {
        let (s, e) = stack
            .post(
                "/v1/auth/sign-in",
                None,
                json!({"username": "cadre1", "password": "wrong-pass-1"}),
            )
            .await;
        assert_eq!(s, 401, "{e}");
    }
    let (s, e) = stack
        .post(
            "/v1/auth/sign-in",
            None,
            json!({"username": "cadre1", "password": "cadre-pass-1"}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (401, Some("unauthenticated")),
        "{e}"
    );
    // The admin unlocks it.
    let id = created["account_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (s, _) = stack
        .post(&format!("/v1/accounts/{id}/enable"), Some(&town), json!({}))
        .await;
    assert_eq!(s, 200);
    let (s, tokens) = stack
        .post(
            "/v1/auth/sign-in",
            None,
            json!({"username": "cadre1", "password": "cadre-pass-1"}),
        )
        .await;
    assert_eq!(s, 200, "{tokens}");
    let access = tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // Refresh rotates; the old refresh token used again ends the session.
    let (s, next) = stack
        .post("/v1/auth/refresh", None, json!({"refresh_token": refresh}))
        .await;
    assert_eq!(s, 200, "{next}");
    let (s, _) = stack
        .post("/v1/auth/refresh", None, json!({"refresh_token": refresh}))
        .await;
    assert_eq!(s, 401, "a reused refresh token is refused");
    let (s, _) = stack.get("/v1/auth/me", Some(&access)).await;
    assert_eq!(s, 401, "and the session it belonged to is over");

    // A password change ends the other sessions but not this one.
    let one = stack.sign_in("cadre1", "cadre-pass-1").await;
    let two = stack.sign_in("cadre1", "cadre-pass-1").await;
    let (s, e) = stack
        .post(
            "/v1/auth/password",
            Some(&one),
            json!({"old_password": "nope-1234", "new_password": "new-pass-12"}),
        )
        .await;
    assert_eq!(
        (s, e["field_errors"][0]["field"].as_str()),
        (400, Some("old_password"))
    );
    let (s, _) = stack
        .post(
            "/v1/auth/password",
            Some(&one),
            json!({"old_password": "cadre-pass-1", "new_password": "new-pass-12"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(stack.get("/v1/auth/me", Some(&one)).await.0, 200);
    assert_eq!(stack.get("/v1/auth/me", Some(&two)).await.0, 401);
    let three = stack.sign_in("cadre1", "new-pass-12").await;

    // Disabled: its tokens stop working at once, and it cannot sign in.
    let (s, _) = stack
        .post(
            &format!("/v1/accounts/{id}/disable"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(stack.get("/v1/auth/me", Some(&three)).await.0, 401);
    let (s, _) = stack
        .post(
            "/v1/auth/sign-in",
            None,
            json!({"username": "cadre1", "password": "new-pass-12"}),
        )
        .await;
    assert_eq!(s, 403);
    // A token minted outside a sign-in is refused by the gateway.
    let forged = zoufang_e2e::token("admin", &[roles::COUNTY_ADMIN], "");
    assert_eq!(stack.get("/v1/auth/me", Some(&forged)).await.0, 401);
    stack.stop().await;
}

/// Ids of what lives in the other township.
struct Foreign {
    household_id: String,
    issue_id: String,
    inspection_id: String,
    campaign_id: String,
    cadre_id: String,
    visit_id: String,
}

async fn seed_other_township(stack: &TestGateway) -> (fixtures::Seed, Foreign) {
    let mut registry = stack
        .registry
        .client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    let seed = fixtures::seed(&mut registry).await;
    let household_id = Uuid::new_v4().to_string();
    registry
        .register_household(fixtures::household_request(
            &household_id,
            fixtures::OTHER_VILLAGE,
            7,
        ))
        .await
        .expect("household in the other township");
    // The other town's own campaign, cadre and a visit of theirs.
    let cadre_id = Uuid::new_v4().to_string();
    registry
        .register_cadre(RegisterCadreRequest {
            cadre_id: cadre_id.clone(),
            name: "新塘村联系干部".into(),
            phone: "13807340105".into(),
            unit: CadreUnit::TownshipOffice as i32,
            position: "工作队员".into(),
            region_code: "430426105".into(),
            roles: vec![roles::CADRE.into()],
        })
        .await
        .expect("cadre of the other township");
    let campaign_id = Uuid::new_v4().to_string();
    registry
        .create_campaign(CreateCampaignRequest {
            campaign_id: campaign_id.clone(),
            region_code: fixtures::OTHER_TOWNSHIP.into(),
            name: "太和堂镇大走访".into(),
            starts_at: fixtures::ago(30 * 86400),
            ends_at: fixtures::ago(-30 * 86400),
            status: CampaignStatus::Active as i32,
            completeness_policy: CompletenessPolicy::Flag as i32,
            ..Default::default()
        })
        .await
        .expect("campaign of the other township");
    let theirs = fixtures::Seed {
        campaign_id: campaign_id.clone(),
        cadre_id: cadre_id.clone(),
        household_ids: vec![household_id.clone()],
    };
    let visit = fixtures::visit_request(&theirs, &household_id);
    let visit_id = visit.visit_id.clone();
    registry
        .record_visit(visit)
        .await
        .expect("visit in the other township");
    let mut issues = stack
        .issues
        .issues_client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    let issue_id = Uuid::new_v4().to_string();
    issues
        .create_issue(CreateIssueRequest {
            issue_id: issue_id.clone(),
            source: IssueSource::Reception as i32,
            region_code: fixtures::OTHER_VILLAGE.into(),
            kind: ItemKind::Problem as i32,
            category: "民生工程".into(),
            description: "新塘村饮水困难".into(),
            ..Default::default()
        })
        .await
        .expect("issue in the other township");
    let mut sup = stack
        .supervision
        .supervision_client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    let inspection_id = Uuid::new_v4().to_string();
    sup.create_inspection(CreateInspectionRequest {
        inspection_id: inspection_id.clone(),
        region_code: fixtures::OTHER_VILLAGE.into(),
        kind: FindingKind::DiaryIncomplete as i32,
        finding: "民情日记不全".into(),
        rectify_within_days: 7,
        ..Default::default()
    })
    .await
    .expect("inspection in the other township");
    let mut notify = stack
        .notify
        .client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    notify
        .upsert_recipient(UpsertRecipientRequest {
            recipient: Some(Recipient {
                recipient_id: "cadre-105".into(),
                name: "新塘村干部".into(),
                roles: vec![roles::CADRE.into()],
                region_code: fixtures::OTHER_VILLAGE.into(),
                ..Recipient::default()
            }),
            deactivate: false,
        })
        .await
        .expect("recipient in the other township");
    (
        seed,
        Foreign {
            household_id,
            issue_id,
            inspection_id,
            campaign_id,
            cadre_id,
            visit_id,
        },
    )
}

/// A request body aimed at the other township: every field the method has
/// that names a region or a subject gets the other township's value. A
/// petition case and a callback exist in neither township, so those get an
/// id nothing has (the answer must still be a refusal, never a 400).
fn aimed_at_other_township(input: &prost_reflect::MessageDescriptor, f: &Foreign) -> Value {
    let mut body = serde_json::Map::new();
    for field in input.fields() {
        let v = match field.name() {
            "region_code" | "village_code" => json!(fixtures::OTHER_VILLAGE),
            "county" => json!(fixtures::COUNTY),
            "household_id" => json!(f.household_id),
            "issue_id" => json!(f.issue_id),
            "inspection_id" => json!(f.inspection_id),
            "campaign_id" => json!(f.campaign_id),
            "cadre_id" => json!(f.cadre_id),
            "visit_id" => json!(f.visit_id),
            "township_code" => json!(fixtures::OTHER_TOWNSHIP),
            "case_id" | "callback_id" => json!(Uuid::new_v4().to_string()),
            "recipient_id" => json!("cadre-105"),
            _ => continue,
        };
        if field.is_list() {
            body.insert(field.name().to_owned(), json!([v]));
        } else {
            body.insert(field.name().to_owned(), v);
        }
    }
    Value::Object(body)
}

#[tokio::test]
async fn a_township_admin_reads_no_other_township_through_any_get_or_list_endpoint() {
    let stack = TestGateway::start().await;
    let (_seed, foreign) = seed_other_township(&stack).await;
    let admin = stack.admin_token().await;
    let town = stack
        .account(
            &admin,
            "town104",
            &[roles::TOWNSHIP_ADMIN, roles::SUPERVISOR],
            "430426104",
            "town104",
        )
        .await;
    let catalog = Catalog::load().expect("catalog");
    let secrets = [
        foreign.household_id.as_str(),
        foreign.issue_id.as_str(),
        foreign.inspection_id.as_str(),
        foreign.campaign_id.as_str(),
        foreign.cadre_id.as_str(),
        foreign.visit_id.as_str(),
        "cadre-105",
        fixtures::OTHER_VILLAGE,
    ];
    // Region names and templates are reference data, public to every user.
    let reference = ["ListRegions", "ListTemplates", "ListCategories"];
    let mut checked = Vec::new();
    for m in catalog
        .methods()
        .filter(|m| m.name.starts_with("Get") || m.name.starts_with("List"))
    {
        let body = aimed_at_other_township(&m.input, &foreign);
        let (status, reply) = stack.post(&m.http_path(), Some(&town), body.clone()).await;
        // A refusal (403, or 404 like an unknown id) or an answer holding
        // nothing of the other township. A 400 would mean the request was
        // not valid, which proves nothing about scope.
        assert!(
            matches!(status, 200 | 403 | 404),
            "{} answered {status} to {body}: {reply}",
            m.http_path()
        );
        if status == 200 && !reference.contains(&m.name.as_str()) {
            let text = reply.to_string();
            for s in secrets {
                assert!(
                    !text.contains(s),
                    "{} leaked {s} to another township: {text}",
                    m.http_path()
                );
            }
        }
        checked.push(format!("{} {status}", m.http_path()));
    }
    eprintln!(
        "township admin on the other township:\n{}",
        checked.join("\n")
    );
    assert!(checked.len() >= 20, "{checked:?}");

    // The same reads as the county admin do see the other township, so the
    // check above could fail.
    for (path, body, id) in [
        (
            "/v1/registry/GetHousehold",
            json!({"household_id": foreign.household_id}),
            &foreign.household_id,
        ),
        (
            "/v1/issues/GetIssue",
            json!({"issue_id": foreign.issue_id}),
            &foreign.issue_id,
        ),
        (
            "/v1/registry/GetVisit",
            json!({"visit_id": foreign.visit_id}),
            &foreign.visit_id,
        ),
        (
            "/v1/registry/GetCampaign",
            json!({"campaign_id": foreign.campaign_id}),
            &foreign.campaign_id,
        ),
        (
            "/v1/issues/ListIssues",
            json!({"region_code": fixtures::OTHER_VILLAGE}),
            &foreign.issue_id,
        ),
        (
            "/v1/supervision/ListInspections",
            json!({"region_code": fixtures::OTHER_VILLAGE}),
            &foreign.inspection_id,
        ),
    ] {
        let (status, reply) = stack.post(path, Some(&admin), body).await;
        assert_eq!(status, 200, "{path}: {reply}");
        assert!(reply.to_string().contains(id.as_str()), "{path}: {reply}");
    }
    // And the personal data the county admin sees is masked.
    let (_, h) = stack
        .post(
            "/v1/registry/GetHousehold",
            Some(&admin),
            json!({"household_id": foreign.household_id}),
        )
        .await;
    assert!(h.to_string().contains("****"), "{h}");
    stack.stop().await;
}

/// One meaning for region codes: a township's full 12-digit code lists its
/// households and issues and gives the same statistics as its prefix, and
/// so does every other list or statistics RPC that names a region.
#[tokio::test]
async fn a_townships_full_code_reads_like_its_prefix_in_every_list_and_statistics() {
    let stack = TestGateway::start().await;
    let (seed, _foreign) = seed_other_township(&stack).await;
    let mut issues = stack
        .issues
        .issues_client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    for (i, village) in fixtures::VILLAGES[..2].iter().enumerate() {
        issues
            .create_issue(CreateIssueRequest {
                issue_id: Uuid::new_v4().to_string(),
                source: IssueSource::Reception as i32,
                region_code: (*village).into(),
                kind: ItemKind::Problem as i32,
                category: "民生工程".into(),
                description: format!("村道破损 {i}"),
                ..Default::default()
            })
            .await
            .expect("issue in the township");
    }
    let admin = stack.admin_token().await;
    let (full, prefix) = (fixtures::TOWNSHIP, &fixtures::TOWNSHIP[..9]);
    assert_eq!(full, "430426104000");

    let households = stack
        .post(
            "/v1/registry/ListHouseholds",
            Some(&admin),
            json!({"region_code": full}),
        )
        .await;
    assert_eq!(households.0, 200, "{}", households.1);
    let villages: Vec<_> = households.1["households"]
        .as_array()
        .expect("households")
        .iter()
        .map(|h| h["village_code"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(villages.len(), seed.household_ids.len(), "{}", households.1);
    assert!(
        villages.iter().all(|v| v.starts_with(prefix)),
        "{villages:?}"
    );

    let listed = stack
        .post(
            "/v1/issues/ListIssues",
            Some(&admin),
            json!({"region_code": full}),
        )
        .await;
    assert_eq!(listed.0, 200, "{}", listed.1);
    let regions: Vec<_> = listed.1["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| i["region_code"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(regions.len(), 2, "{}", listed.1);
    assert!(regions.iter().all(|r| r.starts_with(prefix)), "{regions:?}");

    let stats = stack
        .post(
            "/v1/issues/GetIssueStatistics",
            Some(&admin),
            json!({"region_code": full}),
        )
        .await;
    assert_eq!(stats.0, 200, "{}", stats.1);
    assert_eq!(stats.1["collected"], "2", "{}", stats.1);

    // Every list or statistics RPC naming a region: the full code and the
    // prefix give the same answer (a campaign where the request takes one).
    let catalog = Catalog::load().expect("catalog");
    let mut compared = Vec::new();
    for m in catalog.methods() {
        let is_read = m.name.starts_with("List")
            || m.name.ends_with("Statistics")
            || m.name.ends_with("Progress")
            || m.name.ends_with("Assessment");
        let region_field = ["region_code", "township_code", "parent_code"]
            .into_iter()
            .find(|f| m.input.get_field_by_name(f).is_some());
        let Some(field) = region_field.filter(|_| is_read) else {
            continue;
        };
        let body = |code: &str| {
            let mut b = serde_json::Map::new();
            b.insert(field.to_owned(), json!(code));
            if m.input.get_field_by_name("campaign_id").is_some() {
                b.insert("campaign_id".into(), json!(seed.campaign_id));
            }
            Value::Object(b)
        };
        let path = m.http_path();
        let by_full = stack.post(&path, Some(&admin), body(full)).await;
        let by_prefix = stack.post(&path, Some(&admin), body(prefix)).await;
        assert_eq!(by_full.0, 200, "{path} with {full}: {}", by_full.1);
        assert_eq!(by_full, by_prefix, "{path}: {full} and {prefix} differ");
        compared.push(m.name.clone());
    }
    for must in [
        "ListHouseholds",
        "ListIssues",
        "GetIssueStatistics",
        "ListCadres",
        "ListVisits",
        "ListCampaigns",
        "GetRegionProgress",
        "ListWorkZones",
        "ListRegions",
        "GetCallbackStatistics",
        "ListInspections",
        "ListTeams",
        "GetCadreAssessment",
        "ListVisitSignals",
        "ListRecipients",
        "ListSubscriptions",
        "ListDeliveries",
        "ListCases",
    ] {
        assert!(
            compared.iter().any(|c| c == must),
            "{must} not compared: {compared:?}"
        );
    }
    stack.stop().await;
}

/// Every error is `{code, message, field_errors}` with a Chinese message:
/// a body not declared as JSON (415), one that is not JSON or does not match
/// (400 naming the field), a bad enum value (listing the values it takes),
/// no such route (404) or method (405), a service's English refusal.
#[tokio::test]
async fn every_error_is_json_in_one_shape_with_a_chinese_message() {
    let stack = TestGateway::start().await;
    let admin = stack.admin_token().await;
    let is_cjk = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
    let send = |method: reqwest::Method, path: &str, content_type: Option<&str>, body: &str| {
        let mut r = stack
            .http()
            .request(method, stack.url(path))
            .bearer_auth(&admin)
            .body(body.to_owned());
        if let Some(t) = content_type {
            r = r.header("content-type", t);
        }
        async move {
            let resp = r.send().await.expect("send");
            let status = resp.status().as_u16();
            let json = resp
                .headers()
                .get("content-type")
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            let text = resp.text().await.expect("body");
            assert!(json, "{status} is not JSON: {text}");
            let v: Value = serde_json::from_str(&text).expect("JSON body");
            (status, v)
        }
    };
    let shape = |what: &str, status: u16, v: &Value, want_status: u16, want_code: &str| {
        assert_eq!(status, want_status, "{what}: {v}");
        assert_eq!(v["code"], want_code, "{what}: {v}");
        let message = v["message"].as_str().unwrap_or_default();
        assert!(
            message.chars().any(is_cjk),
            "{what}: not Chinese: {message}"
        );
    };
    let post = reqwest::Method::POST;

    let (s, v) = send(
        post.clone(),
        "/v1/registry/ListHouseholds",
        Some("text/plain"),
        "{}",
    )
    .await;
    shape("RPC text/plain", s, &v, 415, "unsupported_media_type");
    let (s, v) = send(post.clone(), "/v1/registry/ListHouseholds", None, "{}").await;
    shape("RPC undeclared", s, &v, 415, "unsupported_media_type");
    let (s, v) = send(post.clone(), "/v1/auth/sign-in", Some("text/plain"), "{}").await;
    shape("sign-in text/plain", s, &v, 415, "unsupported_media_type");

    let (s, v) = send(
        post.clone(),
        "/v1/auth/sign-in",
        Some("application/json"),
        "{not json",
    )
    .await;
    shape("sign-in not JSON", s, &v, 400, "invalid_argument");
    assert_eq!(v["field_errors"][0]["field"], "body", "{v}");
    let (s, v) = send(
        post.clone(),
        "/v1/auth/sign-in",
        Some("application/json"),
        r#"{"username": 1, "password": "x"}"#,
    )
    .await;
    shape("sign-in wrong type", s, &v, 400, "invalid_argument");
    assert_eq!(v["field_errors"][0]["field"], "username", "{v}");
    let (s, v) = send(
        post.clone(),
        "/v1/registry/ListHouseholds",
        Some("application/json"),
        "{not json",
    )
    .await;
    shape("RPC not JSON", s, &v, 400, "invalid_argument");

    let (s, v) = send(
        post.clone(),
        "/v1/issues/ListIssues",
        Some("application/json"),
        r#"{"state": "SOLVED"}"#,
    )
    .await;
    shape("bad enum", s, &v, 400, "invalid_argument");
    assert_eq!(v["field_errors"][0]["field"], "state", "{v}");
    let reason = v["field_errors"][0]["reason"].as_str().unwrap_or_default();
    for value in [
        "ISSUE_STATE_OPEN",
        "ISSUE_STATE_RESOLVED",
        "ISSUE_STATE_VERIFIED",
    ] {
        assert!(reason.contains(value), "{value} not listed: {reason}");
    }
    let (s, v) = send(
        post.clone(),
        "/v1/registry/ListHouseholds",
        Some("application/json"),
        r#"{"regionCode": "430426", "no_such": 1}"#,
    )
    .await;
    shape("unknown field", s, &v, 400, "invalid_argument");
    assert_eq!(v["field_errors"][0]["field"], "no_such", "{v}");

    // A service's English refusal gets Chinese words before it.
    let (s, v) = send(
        post.clone(),
        "/v1/registry/GetHousehold",
        Some("application/json"),
        r#"{"household_id": "not-a-uuid"}"#,
    )
    .await;
    shape("service refusal", s, &v, 400, "invalid_argument");
    assert_eq!(v["field_errors"][0]["field"], "household_id", "{v}");

    let (s, v) = send(reqwest::Method::GET, "/v1/no/such/route", None, "").await;
    shape("no route", s, &v, 404, "not_found");
    let (s, v) = send(
        reqwest::Method::GET,
        "/v1/registry/ListHouseholds",
        None,
        "",
    )
    .await;
    shape("no such method", s, &v, 405, "method_not_allowed");
    let (s, v) = send(
        reqwest::Method::GET,
        "/v1/reports/county?campaign_id=1&x=%ZZ",
        None,
        "",
    )
    .await;
    assert!(s >= 400, "{s}: {v}");
    assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
    stack.stop().await;
}

#[tokio::test]
async fn the_openapi_document_is_true_to_the_routes() {
    let stack = TestGateway::start().await;
    let (s, doc) = stack.get("/openapi.json", None).await;
    assert_eq!(s, 200);
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    let catalog = Catalog::load().expect("catalog");
    for m in catalog.methods() {
        assert!(
            paths.contains_key(&m.http_path()),
            "{} is not documented",
            m.http_path()
        );
    }
    // Every documented operation is served: without a token it is refused
    // (401), or, for the public ones, answers something other than 404/405.
    for (path, ops) in &paths {
        for (method, op) in ops.as_object().into_iter().flatten() {
            let url = stack.url(
                &path
                    .replace("{account_id}", &Uuid::nil().to_string())
                    .replace("{job_id}", &Uuid::nil().to_string()),
            );
            let req = match method.as_str() {
                "get" => stack.http().get(url),
                "post" => stack.http().post(url).json(&json!({})),
                "delete" => stack.http().delete(url),
                other => panic!("unexpected method {other} on {path}"),
            };
            let status = req.send().await.expect("request").status().as_u16();
            let public = op["security"] == json!([]);
            if public {
                assert!(status != 404 && status != 405, "{method} {path}: {status}");
            } else {
                assert_eq!(status, 401, "{method} {path} without a token");
            }
        }
    }
    // And what is not documented is not served.
    let (s, _) = stack
        .post("/v1/registry/NoSuchMethod", None, json!({}))
        .await;
    assert_eq!(s, 404);
    let (s, page) = {
        let r = stack
            .http()
            .get(stack.url("/docs"))
            .send()
            .await
            .expect("docs");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    };
    assert_eq!(s, 200);
    assert!(page.contains("/v1/registry/ListHouseholds") && page.contains("/v1/auth/sign-in"));
    stack.stop().await;
}

#[tokio::test]
async fn the_inbox_streams_to_a_browser_as_server_sent_events() {
    let stack = TestGateway::start().await;
    let admin = stack.admin_token().await;
    let cadre_id = format!("cadre-{}", Uuid::new_v4());
    let cadre = stack
        .account(
            &admin,
            "sse-cadre",
            &[roles::CADRE],
            "430426104201",
            &cadre_id,
        )
        .await;
    let mut resp = stack
        .http()
        .get(stack.url("/v1/notify/inbox/stream"))
        .bearer_auth(&cadre)
        .send()
        .await
        .expect("open the stream");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let issue_id = Uuid::new_v4().to_string();
    stack
        .notify
        .publish(
            catalogue::issues::ASSIGNED,
            &zoufang_proto::events::v1::IssueChanged {
                issue_id: issue_id.clone(),
                change: zoufang_proto::events::v1::IssueChange::Assigned.into(),
                region_code: fixtures::VILLAGES[0].into(),
                kind: ItemKind::Problem as i32,
                category: "民生工程".into(),
                responsible_cadre_id: cadre_id.clone(),
                description: "自来水时断时续".into(),
                ..Default::default()
            },
        )
        .await;
    let mut seen = String::new();
    let found = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(chunk) = resp.chunk().await.expect("chunk") {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(&issue_id) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(found, "no notification event: {seen}");
    assert!(seen.contains("event: notification"), "{seen}");
    // An open event stream would hold the gateway's graceful shutdown.
    drop(resp);
    stack.stop().await;
}
