//! Personal data: encrypted at rest, found by keyed hash, masked on the way
//! out, revealed only to allowed roles with a purpose — and every reveal audited.
use tonic::Code;
use uuid::Uuid;
use zoufang_e2e::{TestRegistry, fixtures};
use zoufang_proto::registry::v1::*;

/// The personal-data columns of a household row.
type StoredPii = (Vec<u8>, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

#[tokio::test]
async fn personal_data_is_encrypted_masked_and_reveals_are_audited() {
    let registry = TestRegistry::start().await;
    let mut admin = registry
        .client("admin-1", &["county_admin"], fixtures::COUNTY)
        .await;
    fixtures::seed(&mut admin).await;
    let household_id = Uuid::new_v4().to_string();
    let req = fixtures::household_request(&household_id, fixtures::VILLAGES[2], 42);
    let (id_number, phone) = (req.id_number.clone(), req.phone.clone());
    let registered = admin
        .register_household(req)
        .await
        .unwrap()
        .into_inner()
        .household
        .unwrap();

    // Masked on the way out: ID 6+4, phone 3+4, sensitive tags hidden.
    assert_eq!(
        registered.id_number,
        format!("{}********{}", &id_number[..6], &id_number[14..])
    );
    assert_eq!(
        registered.phone,
        format!("{}****{}", &phone[..3], &phone[7..])
    );
    assert!(!registered.tags.contains(&"低保".to_owned()));
    assert!(registered.tags.contains(&"留守".to_owned()));
    assert!(!registered.revealed);

    // Encrypted at rest: no column holds the plain digits.
    let row: StoredPii = sqlx::query_as(
        "SELECT id_number_cipher, id_number_hash, phone_cipher, sensitive_tags_cipher FROM households WHERE household_id = $1::uuid",
    )
    .bind(&household_id)
    .fetch_one(&registry.pool)
    .await
    .unwrap();
    for blob in [Some(row.0), Some(row.1), row.2, row.3]
        .into_iter()
        .flatten()
    {
        let text = String::from_utf8_lossy(&blob);
        assert!(!text.contains(&id_number) && !text.contains(&phone) && !text.contains("低保"));
    }
    let dump: String = sqlx::query_scalar(
        "SELECT row_to_json(h)::text FROM households h WHERE household_id = $1::uuid",
    )
    .bind(&household_id)
    .fetch_one(&registry.pool)
    .await
    .unwrap();
    assert!(
        !dump.contains(&id_number[6..14]) && !dump.contains(&phone[3..]),
        "no plaintext anywhere in the row"
    );

    // A cadre may not reveal; an admin must say why; then the read is audited.
    let mut cadre = registry
        .client(&Uuid::new_v4().to_string(), &["cadre"], "430426104")
        .await;
    let reveal = GetHouseholdRequest {
        household_id: household_id.clone(),
        reveal: true,
        purpose: String::new(),
        reveal_fields: vec![],
    };
    assert_eq!(
        cadre
            .get_household(reveal.clone())
            .await
            .expect_err("cadre")
            .code(),
        Code::PermissionDenied
    );
    let err = admin
        .get_household(reveal.clone())
        .await
        .expect_err("no purpose");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("purpose"));
    let audits = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pii_access_audit WHERE subject_id = $1::uuid",
        )
        .bind(&household_id)
        .fetch_one(&registry.pool)
        .await
        .unwrap()
    };
    assert_eq!(audits().await, 0);
    let full = admin
        .get_household(GetHouseholdRequest {
            purpose: "电话回访核实".into(),
            ..reveal
        })
        .await
        .unwrap()
        .into_inner()
        .household
        .unwrap();
    assert!(full.revealed);
    assert_eq!(full.id_number, id_number);
    assert_eq!(full.phone, phone);
    assert!(full.tags.contains(&"低保".to_owned()));
    assert_eq!(audits().await, 1, "the reveal was audited");
    let (actor, purpose): (String, String) =
        sqlx::query_as("SELECT actor, purpose FROM pii_access_audit WHERE subject_id = $1::uuid")
            .bind(&household_id)
            .fetch_one(&registry.pool)
            .await
            .unwrap();
    assert_eq!(
        (actor.as_str(), purpose.as_str()),
        ("admin-1", "电话回访核实")
    );

    // Masked reads are not audited.
    admin
        .get_household(GetHouseholdRequest {
            household_id: household_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audits().await, 1);
    registry.stop().await;
}

#[tokio::test]
async fn households_are_found_by_id_number_and_tag_without_a_plaintext_index() {
    let registry = TestRegistry::start().await;
    let mut admin = registry
        .client("admin-1", &["county_admin"], fixtures::COUNTY)
        .await;
    let seed = fixtures::seed(&mut admin).await;
    let household_id = Uuid::new_v4().to_string();
    let req = fixtures::household_request(&household_id, fixtures::VILLAGES[0], 77);
    let id_number = req.id_number.clone();
    admin.register_household(req.clone()).await.unwrap();

    let found = admin
        .find_household(FindHouseholdRequest {
            id_number: id_number.to_lowercase(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.household.unwrap().household_id, household_id);

    // Registering the same person again under another id is refused.
    let dup = RegisterHouseholdRequest {
        household_id: Uuid::new_v4().to_string(),
        ..req
    };
    let err = admin
        .register_household(dup)
        .await
        .expect_err("same ID number");
    assert_eq!(err.code(), Code::AlreadyExists);
    assert!(err.message().contains("id_number"));

    // Outside the caller's scope the household is not found.
    let mut outsider = registry.client("x", &["township_admin"], "430426105").await;
    let err = outsider
        .find_household(FindHouseholdRequest { id_number })
        .await
        .expect_err("out of scope");
    assert_eq!(err.code(), Code::NotFound);

    // Filter by a sensitive tag, through its keyed hash.
    let poor = admin
        .list_households(ListHouseholdsRequest {
            region_code: "430426104".into(),
            tag: "低保".into(),
            purpose: "核对低保户走访".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .households;
    assert_eq!(poor.len(), seed.household_ids.len() + 1);
    let none = admin
        .list_households(ListHouseholdsRequest {
            region_code: "430426104".into(),
            tag: "五保".into(),
            purpose: "核对五保户走访".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .households;
    assert!(none.is_empty());

    // Paging: two per page covers all four, no repeats.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = admin
            .list_households(ListHouseholdsRequest {
                region_code: "430426104".into(),
                page_size: 2,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.households.into_iter().map(|h| h.household_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 4);
    seen.dedup();
    assert_eq!(seen.len(), 4);
    registry.stop().await;
}
