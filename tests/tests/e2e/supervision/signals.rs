//! Supervision without callbacks: fabrication signals read from the visit
//! records themselves raise a cadre's risk; inspections (督查记录) are
//! recorded, rectified and closed.
use std::time::Duration;

use uuid::Uuid;
use zoufang_e2e::{TestService, eventually, fixtures, unique_name, wait_for_queue};
use zoufang_proto::supervision::v1::*;

const ADMIN: &[&str] = &["county_admin"];

#[tokio::test]
async fn records_that_cannot_be_true_raise_the_cadres_risk() {
    let database = unique_name("zft");
    let registry = TestService::start_on(&database).await;
    let sup_queue = unique_name("zft");
    let supervision =
        TestService::start_supervision_on(&database, &sup_queue, registry.grpc_port).await;
    wait_for_queue(&sup_queue).await;
    let mut reg = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut reg).await;

    // Two visits ten minutes apart, a hundred kilometres apart, with one photo.
    let mut first = fixtures::visit_request(&seed, &seed.household_ids[0]);
    first.started_at = fixtures::ago(3 * 3600);
    first.ended_at = fixtures::ago(2 * 3600);
    let mut second = fixtures::visit_request(&seed, &seed.household_ids[1]);
    second.started_at = fixtures::ago(2 * 3600 - 600);
    second.ended_at = fixtures::ago(3600);
    second.location = Some(zoufang_proto::common::v1::GeoPoint {
        latitude: 27.69,
        longitude: 112.11,
    });
    second.photo_refs = first.photo_refs.clone();
    reg.record_visit(first.clone()).await.unwrap();
    // The second is read against the first: wait until its facts are stored.
    assert!(
        eventually(Duration::from_secs(15), || {
            let pool = supervision.pool.clone();
            let id = first.visit_id.clone();
            async move {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM supervision.visit_facts WHERE visit_id = $1::uuid",
                )
                .bind(id)
                .fetch_one(&pool)
                .await
                .ok()?;
                (n == 1).then_some(())
            }
        })
        .await
        .is_some(),
        "the first visit's facts were stored"
    );
    reg.record_visit(second.clone()).await.unwrap();

    let signals = eventually(Duration::from_secs(15), || {
        let pool = supervision.pool.clone();
        let id = second.visit_id.clone();
        async move {
            sqlx::query_scalar::<_, serde_json::Value>(
                "SELECT signals FROM supervision.visit_facts WHERE visit_id = $1::uuid",
            )
            .bind(id)
            .fetch_optional(&pool)
            .await
            .ok()
            .flatten()
        }
    })
    .await
    .expect("the second visit's facts were read");
    let codes: Vec<&str> = signals
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["code"].as_str())
        .collect();
    assert!(codes.contains(&"impossible_travel"), "{signals}");
    assert!(codes.contains(&"photo_reused"), "{signals}");

    let mut admin = supervision
        .supervision_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let stats = admin
        .get_callback_statistics(GetCallbackStatisticsRequest {
            region_code: fixtures::COUNTY.into(),
            campaign_id: seed.campaign_id.clone(),
            failure_threshold_bp: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let cadre = stats
        .by_cadre
        .iter()
        .find(|c| c.cadre_id == seed.cadre_id)
        .expect("the cadre's row");
    assert_eq!((cadre.visits_recorded, cadre.flagged_visits), (2, 1));
    assert!(cadre.risk_score >= 60, "high risk: {}", cadre.risk_score);
    let flagged = admin
        .list_visit_signals(ListVisitSignalsRequest {
            campaign_id: seed.campaign_id.clone(),
            region_code: fixtures::TOWNSHIP.into(),
            cadre_id: seed.cadre_id.clone(),
            flagged_only: true,
            page_size: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .visits;
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].visit_id, second.visit_id);
    let travel = flagged[0]
        .signals
        .iter()
        .find(|s| s.code == "impossible_travel")
        .expect("travel signal");
    assert_eq!(travel.other_visit_id, first.visit_id);
    assert!(travel.detail.contains("公里"), "{}", travel.detail);

    // The campaign's visits, every cadre, newest first: both of them, the
    // flagged one (started later) first; flagged only, just that one.
    let list = |cadre_id: &str, flagged_only: bool| ListVisitSignalsRequest {
        campaign_id: seed.campaign_id.clone(),
        region_code: fixtures::TOWNSHIP.into(),
        cadre_id: cadre_id.into(),
        flagged_only,
        page_size: 0,
    };
    let ids = |visits: Vec<zoufang_proto::supervision::v1::VisitSignals>| {
        visits.into_iter().map(|v| v.visit_id).collect::<Vec<_>>()
    };
    let all = admin.list_visit_signals(list("", false)).await.unwrap();
    let newest_first = vec![second.visit_id.clone(), first.visit_id.clone()];
    assert_eq!(ids(all.into_inner().visits), newest_first);
    let mine = admin
        .list_visit_signals(list(&seed.cadre_id, false))
        .await
        .unwrap();
    assert_eq!(ids(mine.into_inner().visits), newest_first);
    let flagged_anyone = admin.list_visit_signals(list("", true)).await.unwrap();
    assert_eq!(
        ids(flagged_anyone.into_inner().visits),
        [second.visit_id.clone()]
    );
    let someone_else = admin
        .list_visit_signals(list(&Uuid::new_v4().to_string(), false))
        .await
        .unwrap();
    assert!(someone_else.into_inner().visits.is_empty());

    // One phone number on three households of the county.
    let mut sharing = Vec::new();
    for n in 0..3 {
        let id = Uuid::new_v4().to_string();
        let mut h = fixtures::household_request(&id, fixtures::VILLAGES[2], 500 + n);
        h.phone = "13807341234".into();
        reg.register_household(h).await.unwrap();
        sharing.push(id);
    }
    let mut third = fixtures::visit_request(&seed, &sharing[0]);
    third.started_at = fixtures::ago(20 * 3600);
    third.ended_at = fixtures::ago(19 * 3600);
    reg.record_visit(third.clone()).await.unwrap();
    let signals = eventually(Duration::from_secs(15), || {
        let pool = supervision.pool.clone();
        let id = third.visit_id.clone();
        async move {
            sqlx::query_scalar::<_, serde_json::Value>(
                "SELECT signals FROM supervision.visit_facts WHERE visit_id = $1::uuid",
            )
            .bind(id)
            .fetch_optional(&pool)
            .await
            .ok()
            .flatten()
        }
    })
    .await
    .expect("the third visit's facts were read");
    assert!(
        signals
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == "shared_phone"),
        "{signals}"
    );
    supervision.stop().await;
    registry.stop().await;
}

#[tokio::test]
async fn inspections_are_recorded_rectified_and_closed() {
    let database = unique_name("zft");
    let sup_queue = unique_name("zft");
    let supervision = TestService::start_supervision_on(&database, &sup_queue, 1).await;
    let mut sup = supervision
        .supervision_client("sup-1", &["supervisor"], "430426104")
        .await;
    let cadre = Uuid::new_v4().to_string();
    let req = CreateInspectionRequest {
        inspection_id: Uuid::new_v4().to_string(),
        cadre_id: cadre.clone(),
        region_code: fixtures::VILLAGES[0].into(),
        kind: FindingKind::DiaryIncomplete as i32,
        finding: "民情日记记录不详细、不规范".into(),
        rectify_within_days: 7,
    };
    let i = sup
        .create_inspection(req.clone())
        .await
        .unwrap()
        .into_inner()
        .inspection
        .unwrap();
    assert!(!i.closed && !i.overdue);
    sup.create_inspection(req.clone())
        .await
        .expect("idempotent");
    let other = CreateInspectionRequest {
        finding: "另一个问题".into(),
        ..req.clone()
    };
    assert_eq!(
        sup.create_inspection(other).await.unwrap_err().code(),
        tonic::Code::AlreadyExists
    );
    let bad = CreateInspectionRequest {
        inspection_id: Uuid::new_v4().to_string(),
        rectify_within_days: 0,
        ..req.clone()
    };
    let err = sup.create_inspection(bad).await.unwrap_err();
    assert!(err.message().contains("rectify_within_days"));
    let outside = CreateInspectionRequest {
        inspection_id: Uuid::new_v4().to_string(),
        region_code: fixtures::OTHER_VILLAGE.into(),
        ..req.clone()
    };
    assert_eq!(
        sup.create_inspection(outside).await.unwrap_err().code(),
        tonic::Code::PermissionDenied
    );

    let open = sup
        .list_inspections(ListInspectionsRequest {
            open_only: true,
            cadre_id: cadre.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .inspections;
    assert_eq!(open.len(), 1);
    let closed = sup
        .close_inspection(CloseInspectionRequest {
            inspection_id: i.inspection_id.clone(),
            note: "已补全日记".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .inspection
        .unwrap();
    assert!(closed.closed);
    assert_eq!(
        sup.close_inspection(CloseInspectionRequest {
            inspection_id: i.inspection_id.clone(),
            note: "再次".into()
        })
        .await
        .unwrap_err()
        .code(),
        tonic::Code::FailedPrecondition
    );
    let open = sup
        .list_inspections(ListInspectionsRequest {
            open_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .inspections;
    assert!(open.is_empty());
    supervision.stop().await;
}
