//! The registry's progress counters (migration 20261201090001): kept by the
//! registry's statements in the transaction of every write, they must equal
//! a count made here from the raw rows (households, visits, items) with the
//! test's own SQL — after households registered one by one and in a batch,
//! visits recorded concurrently in one village (with and without help, in
//! several modes, with materials, overnight stays and items), a visit
//! flagged disputed, and households' tags changed after they were helped.
use sqlx::PgPool;
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

/// A village's additive figures: visits, households visited, overnight
/// stays, households helped, cash, goods, items raised, items resolved on
/// the spot, disputed visits.
type VillageFigures = (String, i64, i64, i64, i64, i64, i64, i64, i64, i64);

/// Every figure the counters keep for the campaign, per village, summed over
/// the slots (rows summing to zero left out), and the same counted from the
/// raw rows: (counters, rows).
async fn villages(pool: &PgPool, campaign: Uuid) -> (Vec<VillageFigures>, Vec<VillageFigures>) {
    let counters = sqlx::query_as(
        "SELECT village_code::text, sum(visits)::bigint, sum(households_visited)::bigint,
                sum(overnight_stays)::bigint, sum(households_helped)::bigint,
                sum(help_cash_fen)::bigint, sum(help_goods_value_fen)::bigint,
                sum(items_raised)::bigint, sum(items_resolved_on_spot)::bigint,
                sum(disputed_visits)::bigint
         FROM progress_villages WHERE county = $1::char(6) AND campaign_id = $2
         GROUP BY 1 ORDER BY 1",
    )
    .bind(fixtures::COUNTY)
    .bind(campaign)
    .fetch_all(pool)
    .await
    .expect("village counters");
    let rows = sqlx::query_as(
        "WITH v AS (
             SELECT v.*, v.help_cash_fen + v.help_goods_value_fen > 0 AS helped,
                    (SELECT count(*) FROM visit_items i
                      WHERE i.county = v.county AND i.visit_id = v.visit_id) AS items,
                    (SELECT count(*) FROM visit_items i
                      WHERE i.county = v.county AND i.visit_id = v.visit_id
                        AND i.resolved_on_spot) AS on_spot
             FROM visits v WHERE v.county = $1::char(6) AND v.campaign_id = $2
         )
         SELECT village_code::text,
                count(*) FILTER (WHERE NOT disputed),
                count(DISTINCT household_id) FILTER (WHERE NOT disputed),
                count(*) FILTER (WHERE NOT disputed AND overnight_stay),
                count(DISTINCT household_id) FILTER (WHERE NOT disputed AND helped),
                COALESCE(sum(help_cash_fen) FILTER (WHERE NOT disputed), 0)::bigint,
                COALESCE(sum(help_goods_value_fen) FILTER (WHERE NOT disputed), 0)::bigint,
                COALESCE(sum(items) FILTER (WHERE NOT disputed), 0)::bigint,
                COALESCE(sum(on_spot) FILTER (WHERE NOT disputed), 0)::bigint,
                count(*) FILTER (WHERE disputed)
         FROM v GROUP BY 1 ORDER BY 1",
    )
    .bind(fixtures::COUNTY)
    .bind(campaign)
    .fetch_all(pool)
    .await
    .expect("village figures from the rows");
    (counters, rows)
}

/// Keyed figures (village, key, amount) of the counters and of the rows.
async fn keyed<K>(
    pool: &PgPool,
    campaign: Uuid,
    counters: &'static str,
    rows: &'static str,
) -> (Vec<K>, Vec<K>)
where
    K: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let mut out = Vec::new();
    for sql in [counters, rows] {
        out.push(
            sqlx::query_as(sql)
                .bind(fixtures::COUNTY)
                .bind(campaign)
                .fetch_all(pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        );
    }
    let rows = out.pop().expect("rows");
    (out.pop().expect("counters"), rows)
}

/// Asserts that every counter table equals the count from the raw rows.
async fn counters_equal_the_rows(pool: &PgPool, campaign: Uuid) {
    let (counters, rows) = villages(pool, campaign).await;
    assert!(!rows.is_empty());
    assert_eq!(counters, rows, "progress_villages");

    let (counters, rows) = keyed::<(String, String, i64)>(
        pool,
        campaign,
        "SELECT p.village_code::text, m.key, sum(m.value::bigint)::bigint
         FROM progress_villages p CROSS JOIN LATERAL jsonb_each_text(p.by_mode) m
         WHERE p.county = $1::char(6) AND p.campaign_id = $2
         GROUP BY 1, 2 HAVING sum(m.value::bigint) <> 0 ORDER BY 1, 2",
        "SELECT village_code::text, mode::text, count(*)
         FROM visits WHERE county = $1::char(6) AND campaign_id = $2 AND NOT disputed
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .await;
    assert_eq!(counters, rows, "visits by mode");

    let (counters, rows) = keyed::<(String, String, i64)>(
        pool,
        campaign,
        "SELECT p.village_code::text, m.key, sum(m.value::bigint)::bigint
         FROM progress_villages p CROSS JOIN LATERAL jsonb_each_text(p.materials) m
         WHERE p.county = $1::char(6) AND p.campaign_id = $2
         GROUP BY 1, 2 HAVING sum(m.value::bigint) <> 0 ORDER BY 1, 2",
        "SELECT v.village_code::text, m->>'name', sum((m->>'quantity')::bigint)::bigint
         FROM visits v CROSS JOIN LATERAL jsonb_array_elements(v.materials) m
         WHERE v.county = $1::char(6) AND v.campaign_id = $2 AND NOT v.disputed
         GROUP BY 1, 2 HAVING sum((m->>'quantity')::bigint) <> 0 ORDER BY 1, 2",
    )
    .await;
    assert!(!rows.is_empty());
    assert_eq!(counters, rows, "materials");

    let (counters, rows) = keyed::<(String, Vec<Vec<u8>>, i64)>(
        pool,
        campaign,
        "SELECT village_code::text, tag_hashes, sum(households)::bigint
         FROM progress_helped_tags WHERE county = $1::char(6) AND campaign_id = $2
         GROUP BY 1, 2 HAVING sum(households) <> 0 ORDER BY 1, 2",
        "SELECT v.village_code::text, h.tag_hashes, count(DISTINCT v.household_id)
         FROM visits v
         JOIN households h ON h.county = v.county AND h.household_id = v.household_id
         WHERE v.county = $1::char(6) AND v.campaign_id = $2 AND NOT v.disputed
           AND v.help_cash_fen + v.help_goods_value_fen > 0
           AND cardinality(h.tag_hashes) > 0
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .await;
    assert!(!rows.is_empty());
    assert_eq!(counters, rows, "helped households per tag set");

    // The campaign is not a filter here: bind it anyway, unused.
    let (counters, rows) = keyed::<(String, i64)>(
        pool,
        campaign,
        "SELECT village_code::text, sum(households)::bigint
         FROM progress_village_households WHERE county = $1::char(6) AND $2::uuid IS NOT NULL
         GROUP BY 1 HAVING sum(households) <> 0 ORDER BY 1",
        "SELECT village_code::text, count(*)
         FROM households WHERE county = $1::char(6) AND $2::uuid IS NOT NULL
         GROUP BY 1 ORDER BY 1",
    )
    .await;
    assert_eq!(counters, rows, "households per village");
}

#[tokio::test]
async fn counters_kept_by_the_service_equal_a_count_from_the_rows() {
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

    let campaign: Uuid = seed.campaign_id.parse().expect("campaign id");
    counters_equal_the_rows(&registry.pool, campaign).await;
    // The API answers from the counters: its county total is the rows' sum.
    let (_, rows) = villages(&registry.pool, campaign).await;
    let sum = |f: fn(&VillageFigures) -> i64| rows.iter().map(f).sum::<i64>();
    assert_eq!(
        (
            total.visits,
            total.overnight_stays,
            total.help_cash_fen,
            total.help_goods_value_fen,
            total.items_raised,
            total.items_resolved_on_spot,
            total.disputed_visits,
        ),
        (
            sum(|v| v.1),
            sum(|v| v.3),
            sum(|v| v.5),
            sum(|v| v.6),
            sum(|v| v.7),
            sum(|v| v.8),
            sum(|v| v.9),
        )
    );
    for village in &kept[2..] {
        let village = village.total.as_ref().expect("village total");
        let row = rows.iter().find(|r| r.0 == village.key);
        assert_eq!(
            (
                village.visits,
                village.households_visited,
                village.households_helped
            ),
            row.map_or((0, 0, 0), |r| (r.1, r.2, r.4)),
            "{}",
            village.key
        );
    }
    registry.stop().await;
}
