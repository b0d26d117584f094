//! Household edits (一户一档): address, group, phone and member count from
//! the version the edit started from; a stale version is refused naming the
//! conflict and writes nothing; every edit is kept in the history (masked)
//! in its transaction; bad input is named and writes nothing; scope is the
//! stored row's. And reveals: a stated purpose, the fields asked, audited.
use tonic::Code;
use uuid::Uuid;
use zoufang_core::auth::{Actor, Claims, service_audience};
use zoufang_e2e::{TestRegistry, fixtures};
use zoufang_proto::registry::v1::*;

/// The household's stored editable state, its history rows and audit rows.
async fn written(pool: &sqlx::PgPool, household_id: &str) -> (i64, String, i32, i64, i64) {
    let (version, address, members): (i64, String, i32) = sqlx::query_as(
        "SELECT version, address, member_count FROM households WHERE household_id = $1::uuid",
    )
    .bind(household_id)
    .fetch_one(pool)
    .await
    .expect("household row");
    let history: i64 =
        sqlx::query_scalar("SELECT count(*) FROM household_history WHERE household_id = $1::uuid")
            .bind(household_id)
            .fetch_one(pool)
            .await
            .expect("history");
    let audits: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pii_access_audit WHERE subject_id = $1::uuid")
            .bind(household_id)
            .fetch_one(pool)
            .await
            .expect("audits");
    (version, address, members, history, audits)
}

fn edit(household_id: &str, version: i64) -> UpdateHouseholdRequest {
    UpdateHouseholdRequest {
        household_id: household_id.into(),
        expected_version: version,
        ..Default::default()
    }
}

/// The fields an INVALID_ARGUMENT names, in order ("invalid argument:
/// field: reason; field: reason").
fn fields_of(status: &tonic::Status) -> Vec<String> {
    status
        .message()
        .strip_prefix("invalid argument: ")
        .unwrap_or_default()
        .split("; ")
        .filter_map(|v| v.split_once(": ").map(|(f, _)| f.to_owned()))
        .collect()
}

#[tokio::test]
async fn household_edits_are_versioned_kept_in_history_and_refused_when_stale() {
    let registry = TestRegistry::start().await;
    let mut county = registry
        .client("county-admin", &["county_admin"], fixtures::COUNTY)
        .await;
    fixtures::seed(&mut county).await;
    let mut town = registry
        .client("town-104", &["township_admin"], "430426104")
        .await;
    let household_id = Uuid::new_v4().to_string();
    let req = fixtures::household_request(&household_id, fixtures::VILLAGES[0], 5);
    let old_phone = req.phone.clone();
    let registered = town
        .register_household(req)
        .await
        .expect("register")
        .into_inner()
        .household
        .expect("household");
    assert_eq!(registered.version, 1, "a new household is version 1");
    let pool = &registry.pool;
    let before = written(pool, &household_id).await;

    // Who may edit: not a cadre (callbacks check cadres against the phone and
    // member count), not another township (answered as unknown), not a token
    // issued to a service for a purpose.
    let mut cadre = registry
        .client(&Uuid::new_v4().to_string(), &["cadre"], "430426104")
        .await;
    let change_phone = UpdateHouseholdRequest {
        phone: Some("13700001111".into()),
        ..edit(&household_id, 1)
    };
    let e = cadre
        .update_household(change_phone.clone())
        .await
        .expect_err("cadre");
    assert_eq!(e.code(), Code::PermissionDenied);
    let mut other = registry
        .client("town-105", &["township_admin"], "430426105")
        .await;
    let e = other
        .update_household(change_phone.clone())
        .await
        .expect_err("other township");
    assert_eq!(e.code(), Code::NotFound, "{}", e.message());
    let delegated = zoufang_e2e::dev_keys()
        .mint_to(
            &Claims {
                sub: "town-104".into(),
                roles: vec!["township_admin".into()],
                scope: "430426104".into(),
                exp: chrono::Utc::now().timestamp() + 120,
                purpose: Some("assessment".into()),
                act: Some(Actor {
                    sub: "supervision".into(),
                }),
                ..Default::default()
            },
            &service_audience("registry"),
        )
        .expect("mint");
    let channel =
        tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{}", registry.grpc_port))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
    let mut acting = registry_service_client::RegistryServiceClient::with_interceptor(
        channel,
        zoufang_core::auth::BearerInterceptor(delegated),
    );
    let e = acting
        .update_household(change_phone.clone())
        .await
        .expect_err("delegated token");
    assert_eq!(e.code(), Code::PermissionDenied, "{}", e.message());
    assert_eq!(
        written(pool, &household_id).await,
        before,
        "nothing written"
    );

    // Bad input: every bad field named (in Chinese), nothing written.
    let e = town
        .update_household(UpdateHouseholdRequest {
            phone: Some("12345".into()),
            member_count: Some(0),
            address: Some("住".repeat(201)),
            ..edit(&household_id, 1)
        })
        .await
        .expect_err("bad input");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(fields_of(&e), ["address", "phone", "member_count"]);
    assert!(
        e.message().contains("家庭人口须在 1 到 50 之间"),
        "{}",
        e.message()
    );
    let e = town
        .update_household(edit(&household_id, 1))
        .await
        .expect_err("nothing to change");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("没有要修改的内容"), "{}", e.message());
    let e = town
        .update_household(UpdateHouseholdRequest {
            address: Some("新址".into()),
            ..edit(&household_id, 0)
        })
        .await
        .expect_err("no version");
    assert_eq!(fields_of(&e), ["expected_version"]);
    assert_eq!(
        written(pool, &household_id).await,
        before,
        "nothing written"
    );

    // An edit from version 1: phone and address change, the version moves.
    let first = town
        .update_household(UpdateHouseholdRequest {
            phone: Some("137 0000 1111".into()),
            address: Some(" 白鹤村新屋组 8 号 ".into()),
            member_count: Some(4), // as stored: not a change
            note: "搬迁换号".into(),
            ..edit(&household_id, 1)
        })
        .await
        .expect("edit")
        .into_inner();
    assert!(first.changed);
    let h = first.household.expect("household");
    assert_eq!(h.version, 2);
    assert_eq!(h.address, "白鹤村新屋组 8 号");
    assert_eq!(h.phone, "137****1111", "masked on the way out");
    assert!(!h.revealed);

    // Encrypted at rest, the new number and the history alike; the keyed
    // hash follows the number.
    let (phone_cipher, phone_hash, changes_cipher): (Vec<u8>, Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT h.phone_cipher, h.phone_hash, x.changes_cipher
             FROM households h JOIN household_history x USING (county, household_id)
             WHERE h.household_id = $1::uuid",
    )
    .bind(&household_id)
    .fetch_one(pool)
    .await
    .expect("stored");
    for blob in [&phone_cipher, &changes_cipher] {
        let text = String::from_utf8_lossy(blob);
        assert!(!text.contains("13700001111") && !text.contains(&old_phone));
    }
    let sharers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM households WHERE phone_hash = $1 AND household_id = $2::uuid",
    )
    .bind(&phone_hash)
    .bind(&household_id)
    .fetch_one(pool)
    .await
    .expect("hash");
    assert_eq!(sharers, 1);

    // A stale edit (from version 1 again) is refused naming the conflict —
    // the versions and the fields changed since — and writes nothing.
    let stale_before = written(pool, &household_id).await;
    let e = county
        .update_household(UpdateHouseholdRequest {
            member_count: Some(6),
            ..edit(&household_id, 1)
        })
        .await
        .expect_err("stale");
    assert_eq!(e.code(), Code::Aborted);
    for part in ["第 1 版", "第 2 版", "住址", "联系电话"] {
        assert!(e.message().contains(part), "{part}: {}", e.message());
    }
    assert_eq!(written(pool, &household_id).await, stale_before);

    // The same values again change nothing: no history, the version stays.
    let same = town
        .update_household(UpdateHouseholdRequest {
            phone: Some("13700001111".into()),
            ..edit(&household_id, 2)
        })
        .await
        .expect("no-op edit")
        .into_inner();
    assert!(!same.changed);
    assert_eq!(same.household.expect("household").version, 2);
    assert_eq!(written(pool, &household_id).await, stale_before);

    // Two edits racing from version 2: exactly one wins.
    let (mut town2, mut county2) = (town.clone(), county.clone());
    let (a, b) = tokio::join!(
        town2.update_household(UpdateHouseholdRequest {
            member_count: Some(5),
            ..edit(&household_id, 2)
        }),
        county2.update_household(UpdateHouseholdRequest {
            group_name: Some("新屋组".into()),
            phone: Some(String::new()),
            ..edit(&household_id, 2)
        }),
    );
    let outcomes = [a.map(|_| ()), b.map(|_| ())];
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    let loser = outcomes
        .iter()
        .find_map(|o| o.as_ref().err())
        .expect("one lost");
    assert_eq!(loser.code(), Code::Aborted, "{}", loser.message());
    let (version, ..) = written(pool, &household_id).await;
    assert_eq!(version, 3);

    // The history: newest first, a page at a time, phone numbers masked.
    let page = town
        .list_household_history(ListHouseholdHistoryRequest {
            household_id: household_id.clone(),
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .expect("history")
        .into_inner();
    assert_eq!(page.edits.len(), 1);
    assert_eq!(page.edits[0].version, 3);
    assert!(!page.next_page_token.is_empty());
    let rest = town
        .list_household_history(ListHouseholdHistoryRequest {
            household_id: household_id.clone(),
            page_size: 1,
            page_token: page.next_page_token.clone(),
        })
        .await
        .expect("history page 2")
        .into_inner();
    assert!(rest.next_page_token.is_empty(), "the last page");
    let e = &rest.edits[0];
    assert_eq!(e.version, 2);
    assert_eq!(e.actor, "town-104");
    assert_eq!(e.actor_roles, ["township_admin"]);
    assert_eq!(e.note, "搬迁换号");
    assert!(e.changed_at.is_some());
    let changes: Vec<(&str, &str, &str, &str)> = e
        .changes
        .iter()
        .map(|c| {
            (
                c.field.as_str(),
                c.label.as_str(),
                c.old_value.as_str(),
                c.new_value.as_str(),
            )
        })
        .collect();
    let masked_old = format!("{}****{}", &old_phone[..3], &old_phone[7..]);
    assert_eq!(
        changes,
        [
            ("address", "住址", "5号", "白鹤村新屋组 8 号"),
            ("phone", "联系电话", masked_old.as_str(), "137****1111"),
        ]
    );
    let text = format!("{page:?}{rest:?}");
    assert!(!text.contains("13700001111") && !text.contains(&old_phone));
    // A cadre of the township may read the history (masked); another
    // township reads it as unknown.
    cadre
        .list_household_history(ListHouseholdHistoryRequest {
            household_id: household_id.clone(),
            ..Default::default()
        })
        .await
        .expect("a cadre in scope reads the history");
    let e = other
        .list_household_history(ListHouseholdHistoryRequest {
            household_id: household_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("other township");
    assert_eq!(e.code(), Code::NotFound);
    let e = town
        .list_household_history(ListHouseholdHistoryRequest {
            household_id: household_id.clone(),
            page_token: "abc".into(),
            ..Default::default()
        })
        .await
        .expect_err("bad token");
    assert_eq!(fields_of(&e), ["page_token"]);
    registry.stop().await;
}

#[tokio::test]
async fn a_reveal_needs_a_purpose_shows_only_the_fields_asked_and_is_audited() {
    let registry = TestRegistry::start().await;
    let mut admin = registry
        .client("admin-1", &["township_admin"], "430426104")
        .await;
    let mut county = registry
        .client("county-admin", &["county_admin"], fixtures::COUNTY)
        .await;
    fixtures::seed(&mut county).await;
    let household_id = Uuid::new_v4().to_string();
    let req = fixtures::household_request(&household_id, fixtures::VILLAGES[1], 9);
    let (id_number, phone) = (req.id_number.clone(), req.phone.clone());
    admin.register_household(req).await.expect("register");
    let pool = &registry.pool;
    let audits = || async { written(pool, &household_id).await.4 };

    // No purpose, a blank one, one too long: refused naming the field, in
    // Chinese, before anything is read; nothing audited.
    for purpose in ["", "   ", &"查".repeat(201)] {
        let e = admin
            .get_household(GetHouseholdRequest {
                household_id: household_id.clone(),
                reveal: true,
                purpose: purpose.to_owned(),
                reveal_fields: vec![],
            })
            .await
            .expect_err("no purpose");
        assert_eq!(e.code(), Code::InvalidArgument);
        assert_eq!(fields_of(&e), ["purpose"]);
        assert!(e.message().contains("用途"), "{}", e.message());
    }
    // An unknown field to reveal is named too.
    let e = admin
        .get_household(GetHouseholdRequest {
            household_id: household_id.clone(),
            reveal: true,
            purpose: "核实".into(),
            reveal_fields: vec!["phone".into(), "address".into()],
        })
        .await
        .expect_err("unknown field");
    assert_eq!(fields_of(&e), ["reveal_fields[1]"]);
    assert_eq!(audits().await, 0);

    // The phone alone: shown in full, the ID number and sensitive tags stay
    // masked, and the audit names the phone and the purpose.
    let h = admin
        .get_household(GetHouseholdRequest {
            household_id: household_id.clone(),
            reveal: true,
            purpose: " 电话回访核实 ".into(),
            reveal_fields: vec!["phone".into()],
        })
        .await
        .expect("reveal the phone")
        .into_inner()
        .household
        .expect("household");
    assert!(h.revealed);
    assert_eq!(h.phone, phone);
    assert_ne!(h.id_number, id_number);
    assert!(h.id_number.contains("********"));
    assert!(!h.tags.contains(&"低保".to_owned()));
    let (actor, fields, purpose): (String, Vec<String>, String) = sqlx::query_as(
        "SELECT actor, fields, purpose FROM pii_access_audit WHERE subject_id = $1::uuid",
    )
    .bind(&household_id)
    .fetch_one(pool)
    .await
    .expect("one audit row");
    assert_eq!(
        (actor.as_str(), fields, purpose.as_str()),
        ("admin-1", vec!["phone".to_owned()], "电话回访核实")
    );

    // No fields named: all three, as before.
    let h = admin
        .get_household(GetHouseholdRequest {
            household_id: household_id.clone(),
            reveal: true,
            purpose: "核对身份".into(),
            reveal_fields: vec![],
        })
        .await
        .expect("reveal all")
        .into_inner()
        .household
        .expect("household");
    assert_eq!(
        (h.id_number.as_str(), h.phone.as_str()),
        (id_number.as_str(), phone.as_str())
    );
    assert!(h.tags.contains(&"低保".to_owned()));
    let fields: Vec<String> = sqlx::query_scalar(
        "SELECT fields FROM pii_access_audit WHERE subject_id = $1::uuid AND purpose = '核对身份'",
    )
    .bind(&household_id)
    .fetch_one(pool)
    .await
    .expect("second audit row");
    assert_eq!(fields, ["id_number", "phone", "tags"]);
    assert_eq!(audits().await, 2);
    registry.stop().await;
}
