//! RegisterHouseholds: a batch registers its good households in one
//! transaction and reports each bad one by index and field; retries are
//! harmless; all_or_nothing and validate_only write nothing when told so.
use tonic::Code;
use uuid::Uuid;
use zoufang_e2e::{TestRegistry, fixtures};
use zoufang_proto::registry::v1::*;

async fn count(pool: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

fn household(village: &str, n: u32) -> RegisterHouseholdRequest {
    fixtures::household_request(&Uuid::new_v4().to_string(), village, n)
}

/// The (field, reason start) of each result's first error, by index.
fn refusals(resp: &RegisterHouseholdsResponse) -> Vec<(i32, String, String)> {
    resp.results
        .iter()
        .filter_map(|r| {
            r.errors
                .first()
                .map(|e| (r.index, e.field.clone(), e.reason.clone()))
        })
        .collect()
}

#[tokio::test]
async fn a_batch_registers_the_good_and_names_each_bad_household() {
    let registry = TestRegistry::start().await;
    let mut admin = registry
        .client("admin-1", &["county_admin"], fixtures::COUNTY)
        .await;
    fixtures::seed(&mut admin).await;
    let mut town = registry
        .client("town-104", &["township_admin"], "430426104")
        .await;
    let already = household(fixtures::VILLAGES[0], 1);
    admin.register_household(already.clone()).await.unwrap();
    let (households0, outbox0) = (
        count(&registry.pool, "SELECT count(*) FROM households").await,
        count(&registry.pool, "SELECT count(*) FROM outbox").await,
    );

    let good: Vec<RegisterHouseholdRequest> = (0..5)
        .map(|i| household(fixtures::VILLAGES[i % 3], 10 + i as u32))
        .collect();
    let mut bad_checksum = household(fixtures::VILLAGES[0], 20);
    let last = bad_checksum.id_number.pop().unwrap();
    bad_checksum
        .id_number
        .push(if last == '0' { '1' } else { '0' });
    let unknown_village = household("430426104299", 21);
    let other_township = household(fixtures::OTHER_VILLAGE, 22);
    let mut twice = household(fixtures::VILLAGES[1], 23);
    twice.id_number = good[0].id_number.clone();
    let mut registered_elsewhere = household(fixtures::VILLAGES[2], 24);
    registered_elsewhere.id_number = already.id_number.clone();
    let mut batch = good.clone();
    batch.extend([
        bad_checksum,
        unknown_village,
        other_township,
        twice,
        registered_elsewhere,
    ]);
    let req = RegisterHouseholdsRequest {
        households: batch.clone(),
        all_or_nothing: false,
        validate_only: false,
    };

    // validate_only: the same verdicts, nothing written.
    let dry = town
        .register_households(RegisterHouseholdsRequest {
            validate_only: true,
            ..req.clone()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!dry.committed);
    assert_eq!((dry.created, dry.failed), (0, 5));
    // all_or_nothing: refused as a whole, nothing written.
    let all = town
        .register_households(RegisterHouseholdsRequest {
            all_or_nothing: true,
            ..req.clone()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!all.committed);
    assert!(all.results.iter().all(|r| r.household_id.is_empty()));
    assert_eq!(refusals(&dry), refusals(&all));
    assert_eq!(
        count(&registry.pool, "SELECT count(*) FROM households").await,
        households0
    );

    // Good households only.
    let resp = town
        .register_households(req.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(resp.committed);
    assert_eq!((resp.created, resp.failed), (5, 5));
    let refused = refusals(&resp);
    let fields: Vec<(i32, &str)> = refused.iter().map(|(i, f, _)| (*i, f.as_str())).collect();
    assert_eq!(
        fields,
        vec![
            (5, "id_number"),
            (6, "village_code"),
            (7, "village_code"),
            (8, "id_number"),
            (9, "id_number"),
        ]
    );
    assert!(refused[0].2.contains("checksum"), "{refused:?}");
    assert!(
        refused[1].2.contains("not in the region table"),
        "{refused:?}"
    );
    assert!(refused[2].2.contains("outside your scope"), "{refused:?}");
    assert!(refused[3].2.contains("index 0"), "{refused:?}");
    assert!(refused[4].2.contains("already registered"), "{refused:?}");
    for (r, sent) in resp.results.iter().zip(&good) {
        assert_eq!(r.household_id, sent.household_id);
        assert!(r.created);
    }
    assert_eq!(
        count(&registry.pool, "SELECT count(*) FROM households").await,
        households0 + 5
    );
    assert_eq!(
        (
            count(&registry.pool, "SELECT count(*) FROM outbox").await,
            count(
                &registry.pool,
                "SELECT count(*) FROM outbox WHERE routing_key = 'registry.household.registered'"
            )
            .await
                - households0
        ),
        (outbox0 + 5, 5),
        "one event per created household, and nothing else (the fixtures' cadre has its own)"
    );
    // Encrypted and readable like any registration.
    let got = admin
        .get_household(GetHouseholdRequest {
            household_id: good[3].household_id.clone(),
            reveal: true,
            purpose: "核对导入".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .household
        .unwrap();
    assert_eq!(
        (got.id_number, got.phone),
        (good[3].id_number.clone(), good[3].phone.clone())
    );
    assert_eq!(got.tags, vec!["留守", "低保"]);
    let tagged = admin
        .list_households(ListHouseholdsRequest {
            region_code: fixtures::TOWNSHIP[..9].into(),
            tag: "低保".into(),
            page_size: 100,
            page_token: String::new(),
            purpose: "核对批量登记".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .households;
    for g in &good {
        assert!(tagged.iter().any(|h| h.household_id == g.household_id));
    }

    // A retry is harmless: the same ids, nothing created, no new events.
    let again = town.register_households(req).await.unwrap().into_inner();
    assert!(again.committed);
    assert_eq!((again.created, again.failed), (0, 5));
    for (r, sent) in again.results.iter().zip(&good) {
        assert_eq!(r.household_id, sent.household_id);
        assert!(!r.created);
    }
    assert_eq!(
        count(&registry.pool, "SELECT count(*) FROM households").await,
        households0 + 5
    );
    assert_eq!(
        count(&registry.pool, "SELECT count(*) FROM outbox").await,
        outbox0 + 5
    );
    // The same id with other details is refused, as RegisterHousehold does.
    let mut changed = good[1].clone();
    changed.member_count += 1;
    let resp = town
        .register_households(RegisterHouseholdsRequest {
            households: vec![changed],
            all_or_nothing: false,
            validate_only: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.results[0].errors[0].field, "household_id");

    // Bounds and roles.
    let too_many = RegisterHouseholdsRequest {
        households: (0..1001)
            .map(|i| household(fixtures::VILLAGES[0], i))
            .collect(),
        all_or_nothing: false,
        validate_only: false,
    };
    let err = admin.register_households(too_many).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let mut supervisor = registry
        .client("sup-1", &["supervisor"], fixtures::COUNTY)
        .await;
    let err = supervisor
        .register_households(RegisterHouseholdsRequest {
            households: vec![household(fixtures::VILLAGES[0], 99)],
            all_or_nothing: false,
            validate_only: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    registry.stop().await;
}
