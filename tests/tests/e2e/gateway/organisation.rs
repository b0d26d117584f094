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

async fn upload(
    stack: &TestGateway,
    token: &str,
    path: &str,
    ct: &str,
    body: Vec<u8>,
) -> (u16, Value) {
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
    (
        n("rows_total"),
        n("rows_processed"),
        n("rows_imported"),
        n("rows_failed"),
    )
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
        .account(
            &admin,
            "town104",
            &[roles::TOWNSHIP_ADMIN],
            "430426104",
            "town104",
        )
        .await;

    // One call: cadre, recipient and account, the account bound to the cadre.
    let cadre = Uuid::new_v4().to_string();
    let (s, body) = stack
        .post(
            "/v1/people/cadres",
            Some(&town),
            onboarding(&cadre, "周飞好", "13807340001"),
        )
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
    let initial = body["initial_password"]
        .as_str()
        .expect("initial password")
        .to_owned();
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
    assert_eq!(
        (s, me["code"].as_str()),
        (403, Some("password_change_required")),
        "{me}"
    );
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
        .post(
            "/v1/people/cadres",
            Some(&town),
            onboarding(&cadre, "周飞好", "13807340001"),
        )
        .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["account_created"], false);
    assert!(again["initial_password"].is_null(), "{again}");
    assert_eq!(
        again["account"]["account_id"],
        body["account"]["account_id"]
    );
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
    let (s, first) = stack
        .post("/v1/people/cadres", Some(&town), req.clone())
        .await;
    assert_eq!(s, 201, "{first}");
    let p1 = first["initial_password"]
        .as_str()
        .expect("password")
        .to_owned();
    assert_eq!(cadres_with_id(&stack, &second).await, 1);
    assert_eq!(recipients_with_id(&stack, &second).await, 1);
    // The admin never saw p1 (say the answer was lost): a retry before the
    // first sign-in issues a new one, and only the new one works.
    let (s, retry) = stack
        .post("/v1/people/cadres", Some(&town), req.clone())
        .await;
    assert_eq!(s, 200, "{retry}");
    assert_eq!(retry["account_created"], false);
    let p2 = retry["initial_password"]
        .as_str()
        .expect("a fresh password")
        .to_owned();
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
    let (s, e) = stack
        .post("/v1/people/cadres", Some(&town), elsewhere)
        .await;
    assert_eq!(s, 403, "{e}");
    let (s, e) = stack
        .post(
            "/v1/people/cadres",
            Some(&token),
            onboarding(&bad, "刘英", "13807340003"),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    assert_eq!(cadres_with_id(&stack, &bad).await, 0);
    assert_eq!(recipients_with_id(&stack, &bad).await, 0);
    assert_eq!(accounts_with_user_id(&stack, &bad).await, 0);
    // The same cadre_id with other details: the registry's conflict, and
    // the account and recipient stay as they were.
    let (s, e) = stack
        .post(
            "/v1/people/cadres",
            Some(&town),
            onboarding(&cadre, "周飞", "13807340001"),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    assert_eq!(accounts_with_user_id(&stack, &cadre).await, 1);

    // The OpenAPI document describes the endpoint and its snake_case body.
    let (_, doc) = stack.get("/openapi.json", None).await;
    let op = &doc["paths"]["/v1/people/cadres"]["post"];
    assert!(op.is_object(), "documented");
    let props = &doc["components"]["schemas"]["OnboardCadreRequest"]["properties"];
    for f in [
        "cadre_id",
        "name",
        "phone",
        "unit",
        "position",
        "region_code",
        "roles",
        "username",
    ] {
        assert!(props[f].is_object(), "{f}");
    }
    stack.stop().await;
}

/// The registry's cadre id of a name.
async fn cadre_named(stack: &TestGateway, name: &str) -> String {
    sqlx::query_scalar("SELECT cadre_id::text FROM cadres WHERE name = $1")
        .bind(name)
        .fetch_one(&stack.registry.pool)
        .await
        .unwrap()
}

/// The work teams of a township, through the gateway.
async fn teams(stack: &TestGateway, token: &str, township: &str) -> Vec<Value> {
    let (s, body) = stack
        .post(
            "/v1/registry/ListWorkTeams",
            Some(token),
            json!({"region_code": township}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    field(&body, "teams")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn team<'t>(teams: &'t [Value], name: &str) -> &'t Value {
    teams
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no team {name}: {teams:?}"))
}

fn members(team: &Value) -> Vec<String> {
    let mut m: Vec<String> = field(team, "member_cadre_ids")
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect();
    m.sort();
    m
}

#[tokio::test]
async fn work_teams_from_the_cadre_import_and_through_the_gateway() {
    let stack = TestGateway::start().await;
    let admin = stack.admin_token().await;
    import_regions(&stack, &admin).await;
    let town = stack
        .account(
            &admin,
            "town104",
            &[roles::TOWNSHIP_ADMIN],
            "430426104",
            "town104",
        )
        .await;
    let other = stack
        .account(
            &admin,
            "town105",
            &[roles::TOWNSHIP_ADMIN],
            "430426105",
            "town105",
        )
        .await;

    // The roster with its team and 队长 columns, one row with a 登录账号.
    let roster = "姓名,手机号,单位类型,职务,工作区域,所属工作队,是否队长,登录账号\n\
        周飞好,13807340001,乡镇机关,工作队长,白鹤铺镇,第一工作队,是,zhoufh\n\
        唐建国,13807340002,乡镇机关,工作队员,黄龙村,第一工作队,,\n\
        刘英,13807340003,村两委,村干部,肖家村,第二工作队,,\n\
        王五,13807340004,乡镇机关,工作队员,白鹤铺镇,,,\n";
    let job = import(
        &stack,
        &town,
        "/v1/import/cadres?wait=true",
        "text/csv",
        roster.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(counts(&job), (4, 4, 4, 0), "{job}");
    let message = job["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("新建工作队“第一工作队”（430426104000）")
            && message.contains("新建工作队“第二工作队”（430426104000）"),
        "{message}"
    );
    assert_eq!(job["credentials_waiting"], 1, "{job}");
    let job_id = job["job_id"].as_str().unwrap().to_owned();

    // The initial password, once, and only for the job's creator.
    let path = format!("/v1/import/{job_id}/credentials");
    let (s, _) = stack.post(&path, Some(&admin), json!({})).await;
    assert_eq!(s, 404, "not the job's creator");
    let (s, creds) = stack.post(&path, Some(&town), json!({})).await;
    assert_eq!(s, 200, "{creds}");
    let list = creds["credentials"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{creds}");
    assert_eq!(list[0]["row"], 2);
    assert_eq!(list[0]["username"], "zhoufh");
    let zhou = cadre_named(&stack, "周飞好").await;
    assert_eq!(list[0]["cadre_id"], zhou.as_str());
    let password = list[0]["initial_password"].as_str().unwrap().to_owned();
    let (s, again) = stack.post(&path, Some(&town), json!({})).await;
    assert_eq!(
        (s, again["credentials"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    assert_eq!(recipients_with_id(&stack, &zhou).await, 1);
    let (s, signed) = sign_in_status(&stack, "zhoufh", &password).await;
    assert_eq!(s, 200, "{signed}");
    assert_eq!(signed["user"]["user_id"], zhou.as_str());
    // The rows without 登录账号: cadres only, as before.
    let tang = cadre_named(&stack, "唐建国").await;
    assert_eq!(accounts_with_user_id(&stack, &tang).await, 0);

    let listed = teams(&stack, &town, "430426104000").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let first = team(&listed, "第一工作队");
    assert_eq!(text(first, "leader_cadre_id"), zhou);
    assert_eq!(text(first, "township_code"), "430426104000");
    let mut want = vec![zhou.clone(), tang.clone()];
    want.sort();
    assert_eq!(members(first), want);
    let liu = cadre_named(&stack, "刘英").await;
    let second = team(&listed, "第二工作队");
    assert_eq!(members(second), vec![liu.clone()]);
    assert_eq!(text(second, "leader_cadre_id"), "");

    // A second roster joins 王五 to the team that exists: nothing new made.
    let more = "姓名,手机号,单位类型,职务,工作区域,所属工作队,是否队长,干部编号\n";
    let wang = cadre_named(&stack, "王五").await;
    let more = format!("{more}王五,13807340004,乡镇机关,工作队员,白鹤铺镇,第一工作队,,{wang}\n");
    let job = import(
        &stack,
        &town,
        "/v1/import/cadres?wait=true",
        "text/csv",
        more.into_bytes(),
    )
    .await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(counts(&job), (1, 1, 1, 0), "{job}");
    assert!(
        !job["message"].as_str().unwrap_or_default().contains("新建"),
        "{job}"
    );
    let listed = teams(&stack, &town, "430426104000").await;
    assert_eq!(members(team(&listed, "第一工作队")).len(), 3);

    // Through the transcoded RPCs: a cadre of one team cannot join another.
    let third = Uuid::new_v4().to_string();
    let (s, e) = stack
        .post(
            "/v1/registry/CreateWorkTeam",
            Some(&town),
            json!({"team_id": third, "township_code": "430426104000", "name": "第三工作队",
                   "member_cadre_ids": [tang]}),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["field_errors"][0]["field"], "member_cadre_ids[0]", "{e}");
    assert!(e.to_string().contains("第一工作队"), "{e}");
    // A name the township has: refused. Another township's team: refused.
    let (s, e) = stack
        .post(
            "/v1/registry/CreateWorkTeam",
            Some(&town),
            json!({"team_id": third, "township_code": "430426104000", "name": "第一工作队"}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    let (s, e) = stack
        .post(
            "/v1/registry/CreateWorkTeam",
            Some(&other),
            json!({"team_id": third, "township_code": "430426104000", "name": "第三工作队"}),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    let (s, e) = stack
        .post(
            "/v1/registry/ListWorkTeams",
            Some(&other),
            json!({"region_code": "430426104000"}),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    // Created, and the same create again is the same team.
    let create = json!({"team_id": third, "township_code": "430426104000", "name": "第三工作队"});
    let (s, made) = stack
        .post("/v1/registry/CreateWorkTeam", Some(&town), create.clone())
        .await;
    assert_eq!(s, 200, "{made}");
    assert_eq!(field(&made, "created"), true);
    let (s, again) = stack
        .post("/v1/registry/CreateWorkTeam", Some(&town), create)
        .await;
    assert_eq!(s, 200, "{again}");
    assert_ne!(field(&again, "created"), true);
    // Members replaced whole: 唐建国 moves from the first team to the
    // second, led by 刘英.
    let second_id = text(team(&listed, "第二工作队"), "team_id").to_owned();
    let first_id = text(team(&listed, "第一工作队"), "team_id").to_owned();
    let (s, set) = stack
        .post(
            "/v1/registry/SetWorkTeamMembers",
            Some(&town),
            json!({"team_id": first_id, "leader_cadre_id": zhou, "member_cadre_ids": [zhou, wang]}),
        )
        .await;
    assert_eq!(s, 200, "{set}");
    let (s, set) = stack
        .post(
            "/v1/registry/SetWorkTeamMembers",
            Some(&town),
            json!({"team_id": second_id, "leader_cadre_id": liu, "member_cadre_ids": [tang]}),
        )
        .await;
    assert_eq!(s, 200, "{set}");
    let t = field(&set, "team");
    assert_eq!(text(t, "leader_cadre_id"), liu);
    let mut want = vec![liu.clone(), tang.clone()];
    want.sort();
    assert_eq!(members(t), want);
    let (s, e) = stack
        .post(
            "/v1/registry/SetWorkTeamMembers",
            Some(&other),
            json!({"team_id": second_id, "member_cadre_ids": []}),
        )
        .await;
    assert_eq!(s, 404, "another township's team is unknown: {e}");
    stack.stop().await;
}

/// A 包保 sheet as XLSX: a title row, then the header and rows.
fn assignment_workbook(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "白鹤铺镇包保责任表").unwrap();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(1, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r as u32 + 2, c as u16, v).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// The campaign's assignments as (cadre, target, target id), sorted.
async fn assignments(
    registry: &mut zoufang_e2e::Registry,
    campaign_id: &str,
) -> Vec<(String, i32, String)> {
    let mut a: Vec<(String, i32, String)> = registry
        .list_assignments(ListAssignmentsRequest {
            campaign_id: campaign_id.into(),
            cadre_id: String::new(),
        })
        .await
        .expect("list assignments")
        .into_inner()
        .assignments
        .into_iter()
        .map(|a| (a.cadre_id, a.target, a.target_id))
        .collect();
    a.sort();
    a
}

#[tokio::test]
async fn assignments_from_a_sheet_in_one_upload_and_again_change_nothing() {
    let stack = TestGateway::start().await;
    let admin = stack.admin_token().await;
    let mut registry = stack
        .registry
        .client("county-admin", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    let seed = fixtures::seed(&mut registry).await;
    let li = Uuid::new_v4().to_string();
    registry
        .register_cadre(RegisterCadreRequest {
            cadre_id: li.clone(),
            name: "李四".into(),
            phone: "13807340002".into(),
            unit: CadreUnit::TownshipOffice as i32,
            position: "班子成员".into(),
            region_code: "430426104".into(),
            roles: vec!["cadre".into()],
        })
        .await
        .expect("cadre");
    let zone = Uuid::new_v4().to_string();
    registry
        .create_work_zone(CreateWorkZoneRequest {
            zone_id: zone.clone(),
            township_code: fixtures::TOWNSHIP.into(),
            name: "第一工作片".into(),
            village_codes: fixtures::VILLAGES[..2]
                .iter()
                .map(|v| v.to_string())
                .collect(),
        })
        .await
        .expect("zone");
    let town = stack
        .account(
            &admin,
            "town104",
            &[roles::TOWNSHIP_ADMIN],
            "430426104",
            "town104",
        )
        .await;
    let zhou = seed.cadre_id.clone();
    let h0 = seed.household_ids[0].clone();

    let csv = format!(
        "干部姓名,干部手机号,包保类型,户编号,村,工作片\n\
         周飞好,,,{h0},,\n\
         周飞好,,,,黄龙村,\n\
         李四,13807340002,包片,,,第一工作片\n\
         王五,,,,黄龙村,\n\
         李四,,,,新塘村,\n"
    );
    let path = format!(
        "/v1/import/assignments?campaign_id={}&mode=good_rows_only&wait=true",
        seed.campaign_id
    );
    let job = import(&stack, &town, &path, "text/csv", csv.clone().into_bytes()).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["kind"], "assignments");
    assert_eq!(counts(&job), (5, 5, 3, 2), "{job}");
    assert_eq!(
        errors(&job),
        vec![
            (
                5,
                "干部姓名".to_owned(),
                "找不到名为“王五”的干部，或他不在您的管辖范围内；请先导入干部".to_owned()
            ),
            (
                6,
                "村".to_owned(),
                "区划表中找不到名为“新塘村”的村（社区），或它不在您的管辖范围内".to_owned()
            ),
        ]
    );
    let mut want = vec![
        (zhou.clone(), AssignmentTarget::Household as i32, h0.clone()),
        (
            zhou.clone(),
            AssignmentTarget::Village as i32,
            fixtures::VILLAGES[0].to_owned(),
        ),
        (li.clone(), AssignmentTarget::Zone as i32, zone.clone()),
    ];
    want.sort();
    assert_eq!(assignments(&mut registry, &seed.campaign_id).await, want);

    // The same sheet again: counted as there, nothing added.
    let job = import(&stack, &town, &path, "text/csv", csv.into_bytes()).await;
    assert_eq!(counts(&job), (5, 5, 3, 2), "{job}");
    assert_eq!(assignments(&mut registry, &seed.campaign_id).await, want);

    // An assignment made one call at a time, then the same in a workbook
    // by 干部编号: still one.
    registry
        .create_assignment(CreateAssignmentRequest {
            assignment_id: Uuid::new_v4().to_string(),
            campaign_id: seed.campaign_id.clone(),
            cadre_id: li.clone(),
            target: AssignmentTarget::Village as i32,
            target_id: fixtures::VILLAGES[1].into(),
        })
        .await
        .expect("one assignment by hand");
    want.push((
        li.clone(),
        AssignmentTarget::Village as i32,
        fixtures::VILLAGES[1].to_owned(),
    ));
    want.push((
        li.clone(),
        AssignmentTarget::Village as i32,
        fixtures::VILLAGES[2].to_owned(),
    ));
    want.sort();
    let book = assignment_workbook(
        &["干部编号", "村", "所属乡镇"],
        &[
            vec![li.clone(), "肖家村".into(), "白鹤铺镇".into()],
            vec![li.clone(), "430426104203".into(), String::new()],
            vec![zhou.clone(), "黄龙村".into(), String::new()],
        ],
    );
    let xlsx_path = format!(
        "/v1/import/assignments?campaign_id={}&wait=true",
        seed.campaign_id
    );
    let job = import(&stack, &town, &xlsx_path, XLSX, book).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(counts(&job), (3, 3, 3, 0), "{job}");
    assert_eq!(assignments(&mut registry, &seed.campaign_id).await, want);

    // All or nothing (the default): a bad row, nothing written.
    let bad = "干部姓名,村\n周飞好,肖家村\n王五,桃源村\n";
    let job = import(
        &stack,
        &town,
        &xlsx_path,
        "text/csv",
        bad.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(assignments(&mut registry, &seed.campaign_id).await, want);

    // The campaign is required, and must be one the caller can see.
    let (s, e) = upload(
        &stack,
        &town,
        "/v1/import/assignments",
        "text/csv",
        bad.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["field_errors"][0]["field"], "campaign_id", "{e}");
    let (s, e) = upload(
        &stack,
        &town,
        &format!("/v1/import/cadres?campaign_id={}", seed.campaign_id),
        "text/csv",
        bad.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    let unknown = format!(
        "/v1/import/assignments?campaign_id={}&wait=true",
        Uuid::new_v4()
    );
    let job = import(&stack, &town, &unknown, "text/csv", bad.as_bytes().to_vec()).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert!(
        job["message"]
            .as_str()
            .unwrap_or_default()
            .contains("找不到走访活动"),
        "{job}"
    );
    stack.stop().await;
}
