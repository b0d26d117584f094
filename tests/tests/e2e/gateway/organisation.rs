//! The Organisation and People pages' APIs through the gateway, against
//! the real services: one-step cadre onboarding (`POST /v1/people/cadres`:
//! the registry's cadre, notify's recipient and a sign-in account bound to
//! the cadre, idempotent by cadre_id); work teams (工作队) through the
//! transcoded registry RPCs and from the cadre import's 所属工作队 /
//! 是否队长 / 登录账号 columns; 包保 assignments from a sheet in one upload,
//! a re-upload creating nothing.
use std::time::Duration;

use rust_xlsxwriter::Workbook;
use serde_json::{Value, json};
use uuid::Uuid;
use zoufang_core::auth::roles;
use zoufang_e2e::{fixtures, gateway::TestGateway};
use zoufang_proto::registry::v1::*;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A JSON field by its snake_case name, or the camelCase the RPC JSON wrote
/// before it moved to snake_case.
fn field<'v>(v: &'v Value, snake: &str) -> &'v Value {
    if !v[snake].is_null() {
        return &v[snake];
    }
    let mut camel = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            camel.extend(c.to_uppercase());
            upper = false;
        } else {
            camel.push(c);
        }
    }
    &v[camel.as_str()]
}

fn text<'v>(v: &'v Value, snake: &str) -> &'v str {
    field(v, snake).as_str().unwrap_or_default()
}

async fn upload(stack: &TestGateway, token: &str, path: &str, ct: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = stack
        .http()
        .post(stack.url(path))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Uploads and waits for the job's end.
async fn import(stack: &TestGateway, token: &str, path: &str, ct: &str, body: Vec<u8>) -> Value {
    let (s, job) = upload(stack, token, path, ct, body).await;
    assert!(s == 200 || s == 202, "{s}: {job}");
    let id = job["job_id"].as_str().expect("job_id").to_owned();
    for _ in 0..600 {
        let (s, job) = stack.get(&format!("/v1/import/{id}"), Some(token)).await;
        assert_eq!(s, 200, "{job}");
        if job["state"] != "running" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {id} never finished");
}

fn errors(job: &Value) -> Vec<(u64, String, String)> {
    job["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["row"].as_u64().unwrap_or_default(),
                e["column"].as_str().unwrap_or_default().to_owned(),
                e["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn counts(job: &Value) -> (i64, i64, i64, i64) {
    let n = |k: &str| job[k].as_i64().unwrap_or(-1);
    (n("rows_total"), n("rows_processed"), n("rows_imported"), n("rows_failed"))
}

async fn import_regions(stack: &TestGateway, admin: &str) {
    let job = import(
        stack,
        admin,
        "/v1/import/regions?wait=true",
        "text/csv",
        fixtures::region_csv().into_bytes(),
    )
    .await;
    assert_eq!(job["state"], "done", "{job}");
}

/// Registered cadres with this id (the registry's table).
async fn cadres_with_id(stack: &TestGateway, id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM cadres WHERE cadre_id = $1::uuid")
        .bind(id)
        .fetch_one(&stack.registry.pool)
        .await
        .unwrap()
}

/// Notify's recipients with this id.
async fn recipients_with_id(stack: &TestGateway, id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM recipients WHERE recipient_id = $1")
        .bind(id)
        .fetch_one(&stack.notify.state.pool)
        .await
        .unwrap()
}

/// The gateway's accounts speaking for this user id.
async fn accounts_with_user_id(stack: &TestGateway, id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM accounts WHERE user_id = $1")
        .bind(id)
        .fetch_one(&stack.pool)
        .await
        .unwrap()
}

async fn sign_in_status(stack: &TestGateway, username: &str, password: &str) -> (u16, Value) {
    stack
        .post(
            "/v1/auth/sign-in",
            None,
            json!({"username": username, "password": password}),
        )
        .await
}

fn onboarding(cadre_id: &str, name: &str, phone: &str) -> Value {
    json!({"cadre_id": cadre_id, "name": name, "phone": phone, "unit": "乡镇机关",
           "position": "工作队员", "region_code": "430426104000"})
}

#[tokio::test]
async fn one_step_onboarding_fills_the_three_directories_once_and_a_retry_completes_the_rest() {
    let stack = TestGateway::start().await;
    let admin = stack.admin_token().await;
    import_regions(&stack, &admin).await;
    let town = stack
        .account(&admin, "town104", &[roles::TOWNSHIP_ADMIN], "430426104", "town104")
        .await;

    // One call: cadre, recipient and account, the account bound to the cadre.
    let cadre = Uuid::new_v4().to_string();
    let (s, body) = stack
        .post("/v1/people/cadres", Some(&town), onboarding(&cadre, "周飞好", "13807340001"))
        .await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["account"]["username"], "13807340001", "{body}");
    assert_eq!(body["account"]["user_id"], cadre.as_str());
    assert_eq!(body["account_created"], true);
    assert_eq!(body["must_change_password"], true);
    assert_eq!(body["cadre"]["phone"], "138****0001");
    assert_eq!(body["cadre"]["region_code"], "430426104");
    assert_eq!(body["cadre"]["unit"], "township_office");
    assert_eq!(body["cadre"]["roles"], json!(["cadre"]));
    let initial = body["initial_password"].as_str().expect("initial password").to_owned();
    assert_eq!(cadres_with_id(&stack, &cadre).await, 1);
    assert_eq!(recipients_with_id(&stack, &cadre).await, 1);
    assert_eq!(accounts_with_user_id(&stack, &cadre).await, 1);
    let region: String =
        sqlx::query_scalar("SELECT region_code::text FROM recipients WHERE recipient_id = $1")
            .bind(&cadre)
            .fetch_one(&stack.notify.state.pool)
            .await
            .unwrap();
    assert_eq!(region, "430426104000");

    // The cadre signs in with the initial password, must change it first,
    // and then speaks as the cadre.
    let token = stack.sign_in("13807340001", &initial).await;
    let (s, me) = stack.get("/v1/auth/me", Some(&token)).await;
    assert_eq!((s, me["code"].as_str()), (403, Some("password_change_required")), "{me}");
    let (s, changed) = stack
        .post(
            "/v1/auth/password",
            Some(&token),
            json!({"old_password": initial, "new_password": "my-own-pass-1"}),
        )
        .await;
    assert_eq!(s, 200, "{changed}");
    let token = stack.sign_in("13807340001", "my-own-pass-1").await;
    let (s, me) = stack.get("/v1/auth/me", Some(&token)).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["user_id"], cadre.as_str());

    // The same call again doubles nothing and shows no password: the
    // cadre has chosen their own.
    let (s, again) = stack
        .post("/v1/people/cadres", Some(&town), onboarding(&cadre, "周飞好", "13807340001"))
        .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["account_created"], false);
    assert!(again["initial_password"].is_null(), "{again}");
    assert_eq!(again["account"]["account_id"], body["account"]["account_id"]);
    assert_eq!(cadres_with_id(&stack, &cadre).await, 1);
    assert_eq!(recipients_with_id(&stack, &cadre).await, 1);
    assert_eq!(accounts_with_user_id(&stack, &cadre).await, 1);
    stack.sign_in("13807340001", "my-own-pass-1").await;

    // A first attempt that stopped after the registry (the cadre is there,
    // nothing else): the retry completes the rest, the cadre once.
    let second = Uuid::new_v4().to_string();
    let mut registry = stack
        .registry
        .client("county-admin", &[roles::COUNTY_ADMIN], "430426")
        .await;
    registry
        .register_cadre(RegisterCadreRequest {
            cadre_id: second.clone(),
            name: "唐建国".into(),
            phone: "13807340002".into(),
            unit: CadreUnit::TownshipOffice as i32,
            position: "工作队员".into(),
            region_code: "430426104".into(),
            roles: vec!["cadre".into()],
        })
        .await
        .expect("register the cadre alone");
    let mut req = onboarding(&second, "唐建国", "13807340002");
    req["username"] = json!("tangjg");
    let (s, first) = stack.post("/v1/people/cadres", Some(&town), req.clone()).await;
    assert_eq!(s, 201, "{first}");
    let p1 = first["initial_password"].as_str().expect("password").to_owned();
    assert_eq!(cadres_with_id(&stack, &second).await, 1);
    assert_eq!(recipients_with_id(&stack, &second).await, 1);
    // The admin never saw p1 (say the answer was lost): a retry before the
    // first sign-in issues a new one, and only the new one works.
    let (s, retry) = stack.post("/v1/people/cadres", Some(&town), req.clone()).await;
    assert_eq!(s, 200, "{retry}");
    assert_eq!(retry["account_created"], false);
    let p2 = retry["initial_password"].as_str().expect("a fresh password").to_owned();
    assert_ne!(p1, p2);
    assert_eq!(sign_in_status(&stack, "tangjg", &p1).await.0, 401);
    stack.sign_in("tangjg", &p2).await;
    assert_eq!(accounts_with_user_id(&stack, &second).await, 1);
    assert_eq!(cadres_with_id(&stack, &second).await, 1);
    assert_eq!(recipients_with_id(&stack, &second).await, 1);

    // Bad input: 400 naming the field, nothing written anywhere.
    let bad = Uuid::new_v4().to_string();
    for (change, name) in [
        (json!({"name": ""}), "name"),
        (json!({"phone": "0734-1234567"}), "phone"),
        (json!({"unit": "合作社"}), "unit"),
        (json!({"region_code": "43"}), "region_code"),
        (json!({"roles": ["boss"]}), "roles[0]"),
        (json!({"cadre_id": "nobody"}), "cadre_id"),
    ] {
        let mut req = onboarding(&bad, "刘英", "13807340003");
        for (k, v) in change.as_object().unwrap() {
            req[k] = v.clone();
        }
        let (s, e) = stack.post("/v1/people/cadres", Some(&town), req).await;
        assert_eq!(s, 400, "{name}: {e}");
        assert_eq!(e["field_errors"][0]["field"], name, "{e}");
    }
    // A username another account holds: refused before anything is written.
    let mut taken = onboarding(&bad, "刘英", "13807340003");
    taken["username"] = json!("tangjg");
    let (s, e) = stack.post("/v1/people/cadres", Some(&town), taken).await;
    assert_eq!(s, 409, "{e}");
    assert_eq!(e["field_errors"][0]["field"], "username", "{e}");
    // Another township, or no admin role: refused.
    let mut elsewhere = onboarding(&bad, "刘英", "13807340003");
    elsewhere["region_code"] = json!("430426105");
    let (s, e) = stack.post("/v1/people/cadres", Some(&town), elsewhere).await;
    assert_eq!(s, 403, "{e}");
    let (s, e) = stack
        .post("/v1/people/cadres", Some(&token), onboarding(&bad, "刘英", "13807340003"))
        .await;
    assert_eq!(s, 403, "{e}");
    assert_eq!(cadres_with_id(&stack, &bad).await, 0);
    assert_eq!(recipients_with_id(&stack, &bad).await, 0);
    assert_eq!(accounts_with_user_id(&stack, &bad).await, 0);
    // The same cadre_id with other details: the registry's conflict, and
    // the account and recipient stay as they were.
    let (s, e) = stack
        .post("/v1/people/cadres", Some(&town), onboarding(&cadre, "周飞", "13807340001"))
        .await;
    assert_eq!(s, 409, "{e}");
    assert_eq!(accounts_with_user_id(&stack, &cadre).await, 1);

    // The OpenAPI document describes the endpoint and its snake_case body.
    let (_, doc) = stack.get("/openapi.json", None).await;
    let op = &doc["paths"]["/v1/people/cadres"]["post"];
    assert!(op.is_object(), "documented");
    let props = &doc["components"]["schemas"]["OnboardCadreRequest"]["properties"];
    for f in ["cadre_id", "name", "phone", "unit", "position", "region_code", "roles", "username"] {
        assert!(props[f].is_object(), "{f}");
    }
    stack.stop().await;
}
