//! Campaigns over their life: listed by scope a page at a time, edited,
//! activated and closed by an admin whose scope covers them, never reopened
//! or edited once closed.
use std::collections::BTreeSet;

use tonic::Code;
use uuid::Uuid;
use zoufang_e2e::{TestRegistry, fixtures};
use zoufang_proto::registry::v1::*;

async fn create(admin: &mut zoufang_e2e::Registry, region: &str, status: CampaignStatus) -> String {
    let id = Uuid::now_v7().to_string();
    admin
        .create_campaign(CreateCampaignRequest {
            campaign_id: id.clone(),
            region_code: region.into(),
            name: format!("大走访 {region}"),
            starts_at: fixtures::ago(86400),
            ends_at: fixtures::ago(-30 * 86400),
            status: status as i32,
            ..Default::default()
        })
        .await
        .expect("create campaign");
    id
}

fn list(region: &str, status: CampaignStatus, size: i32, token: &str) -> ListCampaignsRequest {
    ListCampaignsRequest {
        region_code: region.into(),
        status: status as i32,
        page_size: size,
        page_token: token.into(),
    }
}

async fn ids(client: &mut zoufang_e2e::Registry, req: ListCampaignsRequest) -> BTreeSet<String> {
    let page = client.list_campaigns(req).await.expect("list").into_inner();
    page.campaigns.into_iter().map(|c| c.campaign_id).collect()
}

fn set(id: &str, status: CampaignStatus) -> SetCampaignStatusRequest {
    SetCampaignStatusRequest {
        campaign_id: id.into(),
        status: status as i32,
    }
}

#[tokio::test]
async fn campaigns_are_listed_by_scope_in_pages_edited_and_move_only_forward() {
    let registry = TestRegistry::start().await;
    let mut county = registry
        .client("county-admin", &["county_admin"], fixtures::COUNTY)
        .await;
    let mut town = registry
        .client("town-104", &["township_admin"], "430426104")
        .await;
    let whole = create(&mut county, "430426000000", CampaignStatus::Planned).await;
    let ours = create(&mut county, fixtures::TOWNSHIP, CampaignStatus::Active).await;
    let theirs = create(
        &mut county,
        fixtures::OTHER_TOWNSHIP,
        CampaignStatus::Planned,
    )
    .await;

    // The county admin pages through all three, newest first, two a page.
    let first = county
        .list_campaigns(list("", CampaignStatus::Unspecified, 2, ""))
        .await
        .expect("page 1")
        .into_inner();
    assert_eq!(first.campaigns.len(), 2);
    assert_eq!(first.campaigns[0].campaign_id, theirs, "newest first");
    assert!(!first.next_page_token.is_empty());
    let second = county
        .list_campaigns(list(
            "",
            CampaignStatus::Unspecified,
            2,
            &first.next_page_token,
        ))
        .await
        .expect("page 2")
        .into_inner();
    assert_eq!(second.campaigns.len(), 1);
    assert_eq!(second.campaigns[0].campaign_id, whole);
    assert!(second.next_page_token.is_empty(), "the last page");

    // The township sees its own campaign and the county's, not the other
    // township's; its full 12-digit code means the same as its prefix.
    let want: BTreeSet<String> = [whole.clone(), ours.clone()].into();
    assert_eq!(
        ids(&mut town, list("", CampaignStatus::Unspecified, 0, "")).await,
        want
    );
    assert_eq!(
        ids(
            &mut town,
            list(fixtures::TOWNSHIP, CampaignStatus::Unspecified, 0, "")
        )
        .await,
        want
    );
    let refused = town
        .list_campaigns(list(
            fixtures::OTHER_TOWNSHIP,
            CampaignStatus::Unspecified,
            0,
            "",
        ))
        .await
        .expect_err("another township");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(
        ids(&mut county, list("", CampaignStatus::Active, 0, "")).await,
        [ours.clone()].into(),
        "the status filter"
    );
    let bad = county
        .list_campaigns(list("", CampaignStatus::Unspecified, 500, ""))
        .await
        .expect_err("page too large");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("page_size"), "{}", bad.message());

    // A township admin cannot close the county's campaign, nor see the
    // other township's at all.
    let e = town
        .set_campaign_status(set(&whole, CampaignStatus::Closed))
        .await
        .expect_err("not the township's to close");
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = town
        .set_campaign_status(set(&theirs, CampaignStatus::Active))
        .await
        .expect_err("out of scope");
    assert_eq!(e.code(), Code::NotFound);

    // Planned → active (a retry changes nothing) → closed; never back.
    for _ in 0..2 {
        let c = county
            .set_campaign_status(set(&whole, CampaignStatus::Active))
            .await
            .expect("activate")
            .into_inner()
            .campaign
            .unwrap();
        assert_eq!(c.status, CampaignStatus::Active as i32);
    }
    // Editing: every editable field is replaced; only an admin covering the
    // campaign may; bad input names its field and writes nothing.
    let edit = |id: &str, name: &str, ends_in_days: i64| UpdateCampaignRequest {
        campaign_id: id.into(),
        name: name.into(),
        starts_at: fixtures::ago(86400),
        ends_at: fixtures::ago(-ends_in_days * 86400),
        themes: vec!["入户走访".into(), "矛盾化解".into()],
        completeness_policy: CompletenessPolicy::Refuse as i32,
        quotas: vec![Quota {
            position: String::new(),
            metric: QuotaMetric::HouseholdsVisited as i32,
            target: 40,
            min_amount_fen: 0,
        }],
    };
    let e = town
        .update_campaign(edit(&whole, "乡镇不能改县里的活动", 60))
        .await
        .expect_err("not the township's");
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = county
        .update_campaign(edit(&whole, "结束早于开始", -3))
        .await
        .expect_err("ends before it starts");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("ends_at"), "{}", e.message());
    let edited = county
        .update_campaign(edit(&whole, "全县干部大走访（延长）", 60))
        .await
        .expect("edit")
        .into_inner()
        .campaign
        .unwrap();
    let stored = county
        .get_campaign(GetCampaignRequest {
            campaign_id: whole.clone(),
        })
        .await
        .expect("get")
        .into_inner()
        .campaign
        .unwrap();
    assert_eq!(edited, stored);
    assert_eq!(stored.name, "全县干部大走访（延长）");
    assert_eq!(stored.themes, ["入户走访", "矛盾化解"]);
    assert_eq!(
        stored.completeness_policy,
        CompletenessPolicy::Refuse as i32
    );
    assert_eq!(stored.quotas.len(), 1);
    assert_eq!(stored.quotas[0].target, 40);
    assert_eq!(
        stored.status,
        CampaignStatus::Active as i32,
        "status unchanged"
    );

    let closed = town
        .set_campaign_status(set(&ours, CampaignStatus::Closed))
        .await
        .expect("the township closes its own")
        .into_inner()
        .campaign
        .unwrap();
    assert_eq!(closed.status, CampaignStatus::Closed as i32);
    let e = town
        .set_campaign_status(set(&ours, CampaignStatus::Active))
        .await
        .expect_err("a closed campaign does not reopen");
    assert_eq!(e.code(), Code::FailedPrecondition);
    let e = town
        .update_campaign(edit(&ours, "已结束的活动", 60))
        .await
        .expect_err("a closed campaign is final");
    assert_eq!(e.code(), Code::FailedPrecondition);
    let e = county
        .set_campaign_status(set(&whole, CampaignStatus::Planned))
        .await
        .expect_err("not back to planned");
    assert_eq!(e.code(), Code::InvalidArgument);
    let got = county
        .get_campaign(GetCampaignRequest {
            campaign_id: ours.clone(),
        })
        .await
        .expect("get")
        .into_inner()
        .campaign
        .unwrap();
    assert_eq!(got.status, CampaignStatus::Closed as i32, "stored");
    registry.stop().await;
}
