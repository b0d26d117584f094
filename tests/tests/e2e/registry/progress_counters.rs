//! The registry's progress counters (migration 20261201090001): kept by
//! triggers in the transaction of every write, they must give exactly what
//! `progress_rebuild()` computes from the tables afterwards — after
//! households registered one by one and in a batch, visits recorded
//! concurrently in one village (with and without help, in several modes,
//! with materials, overnight stays and items), a visit flagged disputed, and
//! households' tags changed after they were helped.
use uuid::Uuid;
use zoufang_e2e::{Registry, TestRegistry, fixtures};
use zoufang_proto::{
    common::v1::{Help, MaterialHandout, VisitMode},
    registry::v1::*,
};

const ADMIN: &[&str] = &["county_admin"];

async fn progress(
    admin: &mut Registry,
    campaign_id: &str,
    region_code: &str,
) -> GetRegionProgressResponse {
    admin
        .get_region_progress(GetRegionProgressRequest {
            campaign_id: campaign_id.into(),
            region_code: region_code.into(),
            zone_id: String::new(),
        })
        .await
        .expect("region progress")
        .into_inner()
}

/// The county, the township and each village, as the API answers.
async fn everything(admin: &mut Registry, campaign_id: &str) -> Vec<GetRegionProgressResponse> {
    let mut out = vec![
        progress(admin, campaign_id, &format!("{}000000", fixtures::COUNTY)).await,
        progress(admin, campaign_id, fixtures::TOWNSHIP).await,
    ];
    for village in fixtures::VILLAGES {
        out.push(progress(admin, campaign_id, village).await);
    }
    out
}

#[tokio::test]
async fn counters_kept_by_triggers_equal_a_rebuild() {
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await;

    // Households: a batch in village 1 (poor, not poor, untagged), and more
    // one by one in village 2.
    let mut households = seed.household_ids.clone();
    let batch: Vec<RegisterHouseholdRequest> = (0..12u32)
        .map(|i| {
            let mut h = fixtures::household_request(
                &Uuid::new_v4().to_string(),
                fixtures::VILLAGES[0],
                100 + i,
            );
            h.tags = match i % 3 {
                0 => vec!["低保".into()],
                1 => vec!["留守".into(), "脱贫户".into()],
                _ => vec![],
            };
            h
        })
        .collect();
    households.extend(batch.iter().map(|h| h.household_id.clone()));
    admin
        .register_households(RegisterHouseholdsRequest {
            households: batch,
            all_or_nothing: true,
            validate_only: false,
        })
        .await
        .expect("batch of households");
    for i in 0..4u32 {
        let id = Uuid::new_v4().to_string();
        let mut h = fixtures::household_request(&id, fixtures::VILLAGES[1], 200 + i);
        if i % 2 == 0 {
            h.tags = vec!["空巢老人".into()];
        }
        admin.register_household(h).await.expect("household");
        households.push(id);
    }

    // 48 visits from 8 concurrent clients, mostly in village 1.
    let mut tasks = Vec::new();
    for client in 0..8usize {
        let mut c = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
        let (seed, households) = (seed.clone(), households.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for k in 0..6usize {
                let n = client * 6 + k;
                let mut v = fixtures::visit_request(&seed, &households[n % households.len()]);
                v.mode = [VisitMode::DoorToDoor, VisitMode::Phone, VisitMode::LiveIn][n % 3] as i32;
                v.overnight_stay = n % 3 == 2;
                if v.mode == VisitMode::Phone as i32 {
                    v.location = None;
                }
                v.help = (n % 4 != 0).then(|| Help {
                    cash_fen: 10_000 * (n as i64 % 3),
                    goods_description: if n % 2 == 0 {
                        "大米一袋".into()
                    } else {
                        String::new()
                    },
                    goods_value_fen: if n % 2 == 0 { 5_000 } else { 0 },
                });
                v.materials = (0..n % 3)
                    .map(|m| MaterialHandout {
                        name: ["惠民政策宣传资料", "防诈骗宣传单"][m].into(),
                        quantity: 1 + (n % 4) as i32,
                    })
                    .collect();
                v.items.truncate(n % 3);
                v.started_at = fixtures::ago(3 * 3600 + n as i64 * 60);
                v.ended_at = fixtures::ago(2 * 3600 + n as i64 * 60);
                ids.push(v.visit_id.clone());
                c.record_visit(v).await.expect("record visit");
            }
            ids
        }));
    }
    let mut visit_ids = Vec::new();
    for t in tasks {
        visit_ids.extend(t.await.expect("client"));
    }

    // One visit disputed; tags changed on households already helped.
    admin
        .flag_visit_disputed(FlagVisitDisputedRequest {
            visit_id: visit_ids[5].clone(),
            reason: "回访户主称未见走访干部".into(),
        })
        .await
        .expect("flag disputed");
    for (household, add, remove) in [
        (&households[3], vec!["特困户"], vec!["低保"]),
        (&households[4], vec!["低保户"], vec![]),
        (&households[5], vec![], vec![]),
        (&households[6], vec![], vec!["低保"]),
    ] {
        admin
            .update_household_tags(UpdateHouseholdTagsRequest {
                household_id: household.clone(),
                add: add.into_iter().map(String::from).collect(),
                remove: remove.into_iter().map(String::from).collect(),
            })
            .await
            .expect("update tags");
    }

    let kept = everything(&mut admin, &seed.campaign_id).await;
    let total = kept[0].total.clone().expect("county total");
    assert_eq!(total.visits + total.disputed_visits, 48);
    assert_eq!(total.disputed_visits, 1);
    assert!(total.households_visited > 10, "{total:?}");
    assert!(total.poor_households_helped > 0, "{total:?}");
    assert!(
        !total.materials.is_empty() && total.visits_by_mode.len() == 3,
        "{total:?}"
    );

    sqlx::query("SELECT progress_rebuild()")
        .execute(&registry.pool)
        .await
        .expect("rebuild");
    let rebuilt = everything(&mut admin, &seed.campaign_id).await;
    assert_eq!(kept, rebuilt);
    registry.stop().await;
}
