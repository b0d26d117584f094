//! Bad input gets a clear error naming the field and writes nothing.
use tonic::Code;
use uuid::Uuid;
use zoufang_e2e::{TestRegistry, fixtures};
use zoufang_proto::{
    common::v1::{MaterialHandout, RaisedItem},
    registry::v1::*,
};

const ADMIN: &[&str] = &["county_admin"];

/// Row counts of every table a bad request could have touched.
async fn footprint(pool: &sqlx::PgPool) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "regions",
        "households",
        "cadres",
        "campaigns",
        "visits",
        "visit_items",
        "outbox",
        "pii_access_audit",
    ] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(pool)
                .await
                .unwrap();
        out.push(n);
    }
    out
}

fn assert_invalid(err: &tonic::Status, field: &str) {
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains(field),
        "the error names {field}: {}",
        err.message()
    );
}

#[tokio::test]
async fn bad_input_is_refused_by_field_and_writes_nothing() {
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await;
    let before = footprint(&registry.pool).await;

    // Wrong ID-number checksum.
    let mut h = fixtures::household_request(&Uuid::new_v4().to_string(), fixtures::VILLAGES[0], 7);
    let last = h.id_number.pop().unwrap();
    h.id_number.push(if last == '0' { '1' } else { '0' });
    let err = admin.register_household(h).await.expect_err("bad checksum");
    assert_invalid(&err, "id_number");

    // A 13-digit region code.
    let h = fixtures::household_request(&Uuid::new_v4().to_string(), "4304261042011", 8);
    assert_invalid(
        &admin.register_household(h).await.expect_err("13 digits"),
        "village_code",
    );

    // A bad mobile number.
    let mut h = fixtures::household_request(&Uuid::new_v4().to_string(), fixtures::VILLAGES[0], 9);
    h.phone = "12345".into();
    assert_invalid(
        &admin.register_household(h).await.expect_err("phone"),
        "phone",
    );

    // An empty diary.
    let mut v = fixtures::visit_request(&seed, &seed.household_ids[0]);
    v.narrative = "   ".into();
    assert_invalid(
        &admin.record_visit(v).await.expect_err("empty diary"),
        "narrative",
    );

    // An unknown household.
    let v = fixtures::visit_request(&seed, &Uuid::new_v4().to_string());
    assert_invalid(
        &admin.record_visit(v).await.expect_err("unknown household"),
        "household_id",
    );

    // An unknown cadre.
    let mut v = fixtures::visit_request(&seed, &seed.household_ids[0]);
    v.cadre_ids = vec![Uuid::new_v4().to_string()];
    assert_invalid(
        &admin.record_visit(v).await.expect_err("unknown cadre"),
        "cadre_ids[0]",
    );

    // Several problems at once are all named.
    let mut v = fixtures::visit_request(&seed, &seed.household_ids[0]);
    v.visit_id = "not-a-uuid".into();
    v.mode = 0;
    v.ended_at = fixtures::ago(4 * 3600);
    let err = admin.record_visit(v).await.expect_err("several");
    for field in ["visit_id", "mode", "ended_at"] {
        assert_invalid(&err, field);
    }

    // Hundreds of problems at once (the gateway's fuzzer sent such a
    // visit): still a clear InvalidArgument naming the first fields, not a
    // transport error from an answer too large for HTTP/2 headers.
    let mut v = fixtures::visit_request(&seed, &seed.household_ids[0]);
    v.mode = 0;
    v.items = (0..200)
        .map(|i| RaisedItem {
            item_no: -i,
            kind: 0,
            category: String::new(),
            description: String::new(),
            households_involved: -1,
            resolved_on_spot: true,
            resolution_note: String::new(),
            urgent: false,
        })
        .collect();
    v.materials = (0..200)
        .map(|_| MaterialHandout {
            name: "化".repeat(40),
            quantity: -1,
        })
        .collect();
    let err = admin.record_visit(v).await.expect_err("hundreds");
    assert_invalid(&err, "mode");
    assert!(err.message().contains("more"), "{}", err.message());

    // Region CSV with a 13-digit code: the row and column are named.
    let csv = "code,name,level,pcode\n4304261042041,某村,5,430426104000\n";
    let err = admin
        .import_regions(ImportRegionsRequest {
            csv: csv.as_bytes().to_vec(),
        })
        .await
        .expect_err("13-digit code");
    assert_invalid(&err, "csv[row 2].code");

    assert_eq!(
        footprint(&registry.pool).await,
        before,
        "nothing was written"
    );
    registry.stop().await;
}

#[tokio::test]
async fn tokens_for_another_township_are_refused_and_write_nothing() {
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await;
    let before = footprint(&registry.pool).await;
    let mut outsider = registry
        .client("admin-2", &["township_admin"], "430426105")
        .await;

    let h = fixtures::household_request(&Uuid::new_v4().to_string(), fixtures::VILLAGES[0], 11);
    let err = outsider
        .register_household(h)
        .await
        .expect_err("other township");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    let err = outsider
        .record_visit(fixtures::visit_request(&seed, &seed.household_ids[0]))
        .await
        .expect_err("other township");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

    let err = outsider
        .get_household(GetHouseholdRequest {
            household_id: seed.household_ids[0].clone(),
            ..Default::default()
        })
        .await
        .expect_err("other township");
    assert_eq!(err.code(), Code::NotFound);

    // Lists never show rows outside the scope.
    let list = outsider
        .list_households(ListHouseholdsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(list.households.is_empty());
    let err = outsider
        .list_households(ListHouseholdsRequest {
            region_code: "430426104".into(),
            ..Default::default()
        })
        .await
        .expect_err("asking for another township");
    assert_eq!(err.code(), Code::PermissionDenied);

    assert_eq!(
        footprint(&registry.pool).await,
        before,
        "nothing was written"
    );
    registry.stop().await;
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() {
    let registry = TestRegistry::start().await;
    let channel =
        tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{}", registry.grpc_port))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut anonymous = registry_service_client::RegistryServiceClient::new(channel.clone());
    let err = anonymous
        .list_regions(ListRegionsRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(err.code(), Code::Unauthenticated);

    let forged = zoufang_e2e::impostor_keys()
        .mint_for("x", &["county_admin"], "", chrono::Duration::hours(1))
        .unwrap();
    let mut forger = registry_service_client::RegistryServiceClient::with_interceptor(
        channel,
        zoufang_core::auth::BearerInterceptor(forged),
    );
    let err = forger
        .list_regions(ListRegionsRequest::default())
        .await
        .expect_err("forged");
    assert_eq!(err.code(), Code::Unauthenticated);
    registry.stop().await;
}
