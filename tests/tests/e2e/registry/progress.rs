//! Progress ("访的程度怎样了"): a cadre against the quotas of their position,
//! and a township, a village, a county and a work zone with per-child rows.
//! Disputed visits count only as disputed.
use tonic::Code;
use uuid::Uuid;
use zoufang_e2e::{Registry, TestRegistry, fixtures, fixtures::Seed};
use zoufang_proto::{
    common::v1::{MaterialHandout, VisitMode},
    registry::v1::*,
};

const ADMIN: &[&str] = &["county_admin"];
const LEAFLET: &str = "惠民政策宣传资料";
const MANUAL: &str = "农技手册";

/// Seeds the county, adds a second (never visited) household to village 1,
/// and records four visits by the seed cadre (each with
/// 200 yuan cash, 150 yuan goods, 3 leaflets and 2 items, 1 resolved):
/// village 1 twice (one overnight, living in), village 2 once (plus 2
/// manuals), village 3 once, then flagged disputed.
async fn record_visits(admin: &mut Registry) -> Seed {
    let seed = fixtures::seed(admin).await;
    let extra = fixtures::household_request(&Uuid::new_v4().to_string(), fixtures::VILLAGES[0], 9);
    admin
        .register_household(extra)
        .await
        .expect("second household of village 1");

    let h = &seed.household_ids;
    let mut overnight = fixtures::visit_request(&seed, &h[0]);
    overnight.overnight_stay = true;
    overnight.mode = VisitMode::LiveIn as i32;
    overnight.started_at = fixtures::ago(30 * 3600);
    overnight.ended_at = fixtures::ago(16 * 3600);
    let mut again = fixtures::visit_request(&seed, &h[0]);
    again.started_at = fixtures::ago(8 * 3600);
    again.ended_at = fixtures::ago(7 * 3600);
    let mut second_village = fixtures::visit_request(&seed, &h[1]);
    second_village.materials.push(MaterialHandout {
        name: MANUAL.into(),
        quantity: 2,
    });
    let disputed = fixtures::visit_request(&seed, &h[2]);
    for visit in [overnight, again, second_village, disputed.clone()] {
        admin.record_visit(visit).await.expect("record visit");
    }
    let flag = FlagVisitDisputedRequest {
        visit_id: disputed.visit_id,
        reason: "回访户主称未见走访干部".into(),
    };
    admin
        .flag_visit_disputed(flag)
        .await
        .expect("flag disputed");
    seed
}

fn mode(mode: VisitMode, visits: i64) -> ModeCount {
    ModeCount {
        mode: mode as i32,
        visits,
    }
}

fn material(name: &str, quantity: i32) -> MaterialHandout {
    MaterialHandout {
        name: name.into(),
        quantity,
    }
}

/// Village 1: two visits to one of its two households, one living in overnight.
fn village_1() -> RegionProgress {
    RegionProgress {
        key: fixtures::VILLAGES[0].into(),
        name: "黄龙村".into(),
        households_total: 2,
        households_visited: 1,
        coverage_bp: 5000,
        visits: 2,
        visits_by_mode: vec![mode(VisitMode::DoorToDoor, 1), mode(VisitMode::LiveIn, 1)],
        overnight_stays: 1,
        households_helped: 1,
        // Every fixture household is tagged 低保.
        poor_households_helped: 1,
        help_cash_fen: 40000,
        help_goods_value_fen: 30000,
        materials: vec![material(LEAFLET, 6)],
        items_raised: 4,
        items_resolved_on_spot: 2,
        disputed_visits: 0,
    }
}

/// Village 2: one visit to its only household.
fn village_2() -> RegionProgress {
    RegionProgress {
        key: fixtures::VILLAGES[1].into(),
        name: "肖家村".into(),
        households_total: 1,
        households_visited: 1,
        coverage_bp: 10000,
        visits: 1,
        visits_by_mode: vec![mode(VisitMode::DoorToDoor, 1)],
        overnight_stays: 0,
        households_helped: 1,
        // Every fixture household is tagged 低保.
        poor_households_helped: 1,
        help_cash_fen: 20000,
        help_goods_value_fen: 15000,
        materials: vec![material(MANUAL, 2), material(LEAFLET, 3)],
        items_raised: 2,
        items_resolved_on_spot: 1,
        disputed_visits: 0,
    }
}

/// Village 3: its only visit is disputed, so nothing else counts.
fn village_3() -> RegionProgress {
    RegionProgress {
        key: fixtures::VILLAGES[2].into(),
        name: "桃源村".into(),
        households_total: 1,
        disputed_visits: 1,
        ..Default::default()
    }
}

async fn region(client: &mut Registry, req: GetRegionProgressRequest) -> GetRegionProgressResponse {
    client
        .get_region_progress(req)
        .await
        .expect("region progress")
        .into_inner()
}

#[tokio::test]
async fn cadre_progress_counts_undisputed_visits_against_quotas() {
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = record_visits(&mut admin).await;
    let req = GetCadreProgressRequest {
        campaign_id: seed.campaign_id.clone(),
        cadre_id: seed.cadre_id.clone(),
    };
    let progress = admin
        .get_cadre_progress(req.clone())
        .await
        .expect("cadre progress")
        .into_inner();
    assert_eq!(
        (progress.campaign_id.as_str(), progress.cadre_id.as_str()),
        (seed.campaign_id.as_str(), seed.cadre_id.as_str())
    );
    assert_eq!(progress.position, "工作队员");
    let mut quotas = progress.quotas.clone();
    quotas.sort_by_key(|q| q.metric);
    let quota = |metric: QuotaMetric, target, actual| QuotaProgress {
        metric: metric as i32,
        target,
        actual,
        met: false,
    };
    assert_eq!(
        quotas,
        vec![
            // Two households: the disputed visit's household does not count.
            quota(QuotaMetric::HouseholdsVisited, 60, 2),
            quota(QuotaMetric::OvernightStays, 10, 1),
            // 700 and 350 yuan, both above the 100 yuan floor.
            quota(QuotaMetric::HouseholdsHelped, 5, 2),
        ]
    );
    assert!(!progress.all_met);
    assert_eq!(progress.disputed_visits, 1);

    // The cadre sees their own progress; a cadre of another township does not.
    let mut me = registry
        .client(&seed.cadre_id, &["cadre"], "430426104")
        .await;
    assert_eq!(
        me.get_cadre_progress(req.clone())
            .await
            .expect("own progress")
            .into_inner(),
        progress
    );
    let mut outsider = registry
        .client("admin-2", &["township_admin"], "430426105")
        .await;
    let err = outsider
        .get_cadre_progress(req.clone())
        .await
        .expect_err("other township");
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    let unknown = GetCadreProgressRequest {
        cadre_id: Uuid::new_v4().to_string(),
        ..req
    };
    let err = admin
        .get_cadre_progress(unknown)
        .await
        .expect_err("unknown cadre");
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(err.message().contains("cadre_id"), "{}", err.message());
    registry.stop().await;
}

#[tokio::test]
async fn township_progress_has_a_row_per_village() {
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = record_visits(&mut admin).await;
    let req = GetRegionProgressRequest {
        campaign_id: seed.campaign_id.clone(),
        region_code: fixtures::TOWNSHIP.into(),
        zone_id: String::new(),
    };
    let township = region(&mut admin, req.clone()).await;
    let total = RegionProgress {
        key: fixtures::TOWNSHIP.into(),
        name: "白鹤铺镇".into(),
        households_total: 4,
        households_visited: 2,
        coverage_bp: 5000,
        visits: 3,
        visits_by_mode: vec![mode(VisitMode::DoorToDoor, 2), mode(VisitMode::LiveIn, 1)],
        overnight_stays: 1,
        households_helped: 2,
        poor_households_helped: 2,
        help_cash_fen: 60000,
        help_goods_value_fen: 45000,
        materials: vec![material(MANUAL, 2), material(LEAFLET, 9)],
        items_raised: 6,
        items_resolved_on_spot: 3,
        disputed_visits: 1,
    };
    assert_eq!(township.total, Some(total.clone()));
    assert_eq!(
        township.children,
        vec![village_1(), village_2(), village_3()]
    );

    // A village has no breakdown.
    let village = region(
        &mut admin,
        GetRegionProgressRequest {
            region_code: fixtures::VILLAGES[1].into(),
            ..req.clone()
        },
    )
    .await;
    assert_eq!(
        (village.total, village.children),
        (Some(village_2()), vec![])
    );

    // The county of a township campaign shows that township as its one child.
    let county = region(
        &mut admin,
        GetRegionProgressRequest {
            region_code: "430426000000".into(),
            ..req.clone()
        },
    )
    .await;
    let county_total = RegionProgress {
        key: "430426000000".into(),
        name: "祁东县".into(),
        ..total.clone()
    };
    assert_eq!(county.total, Some(county_total));
    assert_eq!(county.children, vec![total]);

    // A token for another township sees nothing of this one.
    let mut outsider = registry
        .client("admin-2", &["township_admin"], "430426105")
        .await;
    let err = outsider
        .get_region_progress(req.clone())
        .await
        .expect_err("other township");
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    let both = GetRegionProgressRequest {
        zone_id: Uuid::new_v4().to_string(),
        ..req.clone()
    };
    let err = admin
        .get_region_progress(both)
        .await
        .expect_err("both targets");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let neither = GetRegionProgressRequest {
        region_code: String::new(),
        ..req
    };
    let err = admin
        .get_region_progress(neither)
        .await
        .expect_err("no target");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    registry.stop().await;
}

#[tokio::test]
async fn work_zone_progress_covers_its_villages() {
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = record_visits(&mut admin).await;
    let zone_id = Uuid::new_v4().to_string();
    admin
        .create_work_zone(CreateWorkZoneRequest {
            zone_id: zone_id.clone(),
            township_code: fixtures::TOWNSHIP.into(),
            name: "东片".into(),
            village_codes: vec![fixtures::VILLAGES[0].into(), fixtures::VILLAGES[2].into()],
        })
        .await
        .expect("create zone");
    let req = GetRegionProgressRequest {
        campaign_id: seed.campaign_id.clone(),
        region_code: String::new(),
        zone_id: zone_id.clone(),
    };
    let zone = region(&mut admin, req).await;
    let total = RegionProgress {
        key: zone_id,
        name: "东片".into(),
        households_total: 3,
        households_visited: 1,
        coverage_bp: 3333,
        disputed_visits: 1,
        ..village_1()
    };
    assert_eq!(zone.total, Some(total));
    assert_eq!(zone.children, vec![village_1(), village_3()]);
    registry.stop().await;
}
