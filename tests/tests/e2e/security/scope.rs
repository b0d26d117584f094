//! Scope findings of issue 18: writes checked against the row as stored
//! (High 3), sensitive-tag filters and counts as audited reveals (High 4),
//! out-of-scope answered exactly like unknown (Low, existence oracles), and
//! admins confined to what they administer (Low, over-reach).
use tonic::Code;
use uuid::Uuid;
use zoufang_core::{auth::roles, clock::Clock};
use zoufang_e2e::{Registry, TestNotify, TestRegistry, TestService, fixtures, unique_name};
use zoufang_proto::{issues::v1 as issues, notify::v1 as notify, registry::v1 as registry};

const TOWNSHIP_SCOPE: &str = "430426104";
const OTHER_TOWNSHIP_SCOPE: &str = "430426105";

/// A registry seeded with the test county, and its county admin.
async fn seeded_registry() -> (TestRegistry, Registry, fixtures::Seed) {
    let registry = TestRegistry::start().await;
    let mut admin = registry
        .client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    let seed = fixtures::seed(&mut admin).await;
    (registry, admin, seed)
}

/// An error's code and message with `id` replaced, to compare two answers
/// about different ids byte for byte.
fn answer(status: &tonic::Status, id: &str) -> (Code, String) {
    (status.code(), status.message().replace(id, "<id>"))
}

fn recipient(id: &str, roles: &[&str], region: &str, phone: &str) -> notify::Recipient {
    notify::Recipient {
        recipient_id: id.into(),
        name: format!("测试{id}"),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        region_code: region.into(),
        phone: phone.into(),
        active: true,
    }
}

/// High 3. Caught: a township admin rewrote the county leader's notify
/// recipient row (inactive, new role, new phone) by sending values inside
/// their township; UpsertRecipient checked only the new region. Also
/// caught: a township admin registered a "county_admin" recipient inside
/// their township.
#[tokio::test]
async fn a_township_admin_cannot_rewrite_the_county_leaders_recipient_row() {
    let n = TestNotify::start(&unique_name("zft"), Clock::system(), |_| {}).await;
    let mut county = n
        .client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    let leader = recipient(
        "leader-1",
        &[roles::COUNTY_ADMIN],
        "430426000000",
        "13900000001",
    );
    county
        .upsert_recipient(notify::UpsertRecipientRequest {
            recipient: Some(leader),
            deactivate: false,
        })
        .await
        .expect("the county admin registers the leader");

    let mut township = n
        .client("t-admin", &[roles::TOWNSHIP_ADMIN], TOWNSHIP_SCOPE)
        .await;
    let hijack = recipient(
        "leader-1",
        &[roles::CADRE],
        fixtures::VILLAGES[0],
        "13911112222",
    );
    let err = township
        .upsert_recipient(notify::UpsertRecipientRequest {
            recipient: Some(hijack),
            deactivate: true,
        })
        .await
        .expect_err("the leader's row is outside the township");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(!err.message().contains("430426000000"), "{}", err.message());
    let (active, region, held, masked): (bool, String, Vec<String>, String) = sqlx::query_as(
        "SELECT active, region_code::text, roles, phone_masked
         FROM notify.recipients WHERE recipient_id = 'leader-1'",
    )
    .fetch_one(&n.service.pool)
    .await
    .expect("the leader's row");
    assert!(active);
    assert_eq!(region, "430426000000");
    assert_eq!(held, vec![roles::COUNTY_ADMIN.to_owned()]);
    assert_eq!(masked, "139****0001");

    // The township's own people stay theirs to maintain.
    for deactivate in [false, true] {
        township
            .upsert_recipient(notify::UpsertRecipientRequest {
                recipient: Some(recipient(
                    "c-9",
                    &[roles::CADRE],
                    fixtures::VILLAGES[1],
                    "13922223333",
                )),
                deactivate,
            })
            .await
            .expect("a row of the township");
    }
    // Nor can a township admin make one of theirs a county-wide recipient
    // (who would receive the county's escalations about the township).
    let err = township
        .upsert_recipient(notify::UpsertRecipientRequest {
            recipient: Some(recipient(
                "c-10",
                &[roles::COUNTY_ADMIN],
                fixtures::TOWNSHIP,
                "",
            )),
            deactivate: false,
        })
        .await
        .expect_err("a county role in a township");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("recipient.roles[0]"),
        "{}",
        err.message()
    );
    n.stop().await;
}

fn sla(days: i32) -> Vec<issues::SlaRule> {
    vec![issues::SlaRule {
        days,
        ..Default::default()
    }]
}

/// High 3. Caught: SetSlaRules stores a campaign's rules per county but
/// checked only the region the request named, so a township admin replaced
/// the county campaign's deadlines by naming their own township.
#[tokio::test]
async fn a_township_admin_cannot_replace_the_county_campaigns_sla_rules() {
    let database = unique_name("zft");
    let ledger = TestService::start_issues_on(&database, &unique_name("zft"), 3600).await;
    let campaign_id = Uuid::new_v4();
    let mut county = ledger
        .issues_client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    county
        .set_sla_rules(issues::SetSlaRulesRequest {
            campaign_id: campaign_id.to_string(),
            region_code: "430426000000".into(),
            rules: sla(7),
        })
        .await
        .expect("the county admin sets the rules");
    let mut township = ledger
        .issues_client("t-admin", &[roles::TOWNSHIP_ADMIN], TOWNSHIP_SCOPE)
        .await;
    let err = township
        .set_sla_rules(issues::SetSlaRulesRequest {
            campaign_id: campaign_id.to_string(),
            region_code: fixtures::TOWNSHIP.into(),
            rules: sla(60),
        })
        .await
        .expect_err("the rules are the county's");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let days: Vec<i32> = sqlx::query_scalar("SELECT days FROM sla_rules WHERE campaign_id = $1")
        .bind(campaign_id)
        .fetch_all(&ledger.pool)
        .await
        .expect("rules");
    assert_eq!(days, vec![7]);
    ledger.stop().await;
}

fn by_tag(tag: &str, purpose: &str) -> registry::ListHouseholdsRequest {
    registry::ListHouseholdsRequest {
        region_code: TOWNSHIP_SCOPE.into(),
        tag: tag.into(),
        purpose: purpose.into(),
        ..Default::default()
    }
}

async fn audit_rows(registry: &TestRegistry, actor: &str, field: &str) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT subject_id FROM pii_access_audit WHERE actor = $1 AND $2 = ANY(fields)
         ORDER BY subject_id",
    )
    .bind(actor)
    .bind(field)
    .fetch_all(&registry.pool)
    .await
    .expect("audit rows")
}

/// High 4. Caught: ListHouseholds filtered by any tag for any role — a cadre
/// listed the township's 低保 households, a department account the county's
/// 特困 ones — and wrote no audit row.
#[tokio::test]
async fn filtering_by_a_sensitive_tag_is_an_audited_reveal() {
    let (registry, mut admin, seed) = seeded_registry().await;
    let cadre_id = seed.cadre_id.clone();
    let mut cadre = registry
        .client(&cadre_id, &[roles::CADRE], TOWNSHIP_SCOPE)
        .await;
    let err = cadre
        .list_households(by_tag("低保", "走访"))
        .await
        .expect_err("a cadre may not reveal");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let mut department = registry
        .client("dept-civil", &[roles::DEPARTMENT], fixtures::COUNTY)
        .await;
    let err = department
        .list_households(registry::ListHouseholdsRequest {
            region_code: fixtures::COUNTY.into(),
            ..by_tag("特困", "核查")
        })
        .await
        .expect_err("a department may not reveal");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    // Working labels stay a filter for everyone.
    let left_behind = cadre
        .list_households(by_tag("留守", ""))
        .await
        .expect("an open tag")
        .into_inner()
        .households;
    assert_eq!(left_behind.len(), seed.household_ids.len());

    let err = admin
        .list_households(by_tag("低保", " "))
        .await
        .expect_err("no purpose");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("purpose"), "{}", err.message());
    assert!(audit_rows(&registry, "admin-1", "tags").await.is_empty());

    let poor = admin
        .list_households(by_tag("低保", "核对低保户走访情况"))
        .await
        .expect("an admin with a purpose")
        .into_inner()
        .households;
    let mut listed: Vec<Uuid> = poor
        .iter()
        .map(|h| Uuid::parse_str(&h.household_id).expect("id"))
        .collect();
    listed.sort();
    assert_eq!(listed.len(), seed.household_ids.len());
    assert_eq!(audit_rows(&registry, "admin-1", "tags").await, listed);
    registry.stop().await;
}

/// High 4, counts. Caught: GetRegionProgress gave a cadre the number of
/// poor (低保 …) households helped in a village; with the one household they
/// helped, that names it.
#[tokio::test]
async fn poverty_counts_are_for_those_who_may_see_the_tags() {
    let (registry, mut admin, seed) = seeded_registry().await;
    admin
        .record_visit(fixtures::visit_request(&seed, &seed.household_ids[0]))
        .await
        .expect("a visit with help to a 低保 household");
    let req = registry::GetRegionProgressRequest {
        campaign_id: seed.campaign_id.clone(),
        region_code: fixtures::VILLAGES[0].into(),
        zone_id: String::new(),
    };
    let poor =
        |r: registry::GetRegionProgressResponse| r.total.expect("total").poor_households_helped;
    let for_admin = admin.get_region_progress(req.clone()).await.expect("admin");
    assert_eq!(poor(for_admin.into_inner()), 1);
    let mut cadre = registry
        .client(&seed.cadre_id, &[roles::CADRE], TOWNSHIP_SCOPE)
        .await;
    let for_cadre = cadre.get_region_progress(req).await.expect("cadre");
    let total = for_cadre.into_inner();
    assert_eq!(poor(total.clone()), 0);
    assert_eq!(total.total.expect("total").households_helped, 1);
    registry.stop().await;
}

/// Low, existence oracles. Caught: out of scope, GetHousehold, GetCampaign
/// and GetVisit answered PermissionDenied naming the id while an unknown id
/// got NotFound; RecordVisit likewise told the two apart.
#[tokio::test]
async fn registry_reads_outside_the_scope_answer_like_unknown_ids() {
    let (registry, mut admin, seed) = seeded_registry().await;
    let visit = fixtures::visit_request(&seed, &seed.household_ids[0]);
    admin.record_visit(visit.clone()).await.expect("visit");
    let mut outsider = registry
        .client("admin-2", &[roles::TOWNSHIP_ADMIN], OTHER_TOWNSHIP_SCOPE)
        .await;
    let unknown = Uuid::new_v4().to_string();

    let household = |id: &str| registry::GetHouseholdRequest {
        household_id: id.into(),
        ..Default::default()
    };
    let hidden = outsider
        .get_household(household(&seed.household_ids[0]))
        .await
        .unwrap_err();
    let missing = outsider
        .get_household(household(&unknown))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(
        answer(&hidden, &seed.household_ids[0]),
        answer(&missing, &unknown)
    );

    let campaign = |id: &str| registry::GetCampaignRequest {
        campaign_id: id.into(),
    };
    let hidden = outsider
        .get_campaign(campaign(&seed.campaign_id))
        .await
        .unwrap_err();
    let missing = outsider.get_campaign(campaign(&unknown)).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(
        answer(&hidden, &seed.campaign_id),
        answer(&missing, &unknown)
    );

    let get_visit = |id: &str| registry::GetVisitRequest {
        visit_id: id.into(),
    };
    let hidden = outsider
        .get_visit(get_visit(&visit.visit_id))
        .await
        .unwrap_err();
    let missing = outsider.get_visit(get_visit(&unknown)).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(answer(&hidden, &visit.visit_id), answer(&missing, &unknown));

    // Recording a visit to a household elsewhere reads like an unknown household.
    let mut elsewhere = fixtures::visit_request(&seed, &seed.household_ids[1]);
    elsewhere.visit_id = Uuid::new_v4().to_string();
    let hidden = outsider.record_visit(elsewhere.clone()).await.unwrap_err();
    let nowhere = registry::RecordVisitRequest {
        household_id: unknown.clone(),
        ..elsewhere
    };
    let missing = outsider.record_visit(nowhere).await.unwrap_err();
    assert_eq!(
        answer(&hidden, &seed.household_ids[1]),
        answer(&missing, &unknown)
    );
    registry.stop().await;
}

/// Low, existence oracles. Caught: registering an ID number held by a
/// household of another township was refused without a trace, so a
/// township could probe who lives elsewhere in the county. The refusal
/// must not name that household or its village (and reads the same as a
/// duplicate inside the caller's scope), and it is audited.
#[tokio::test]
async fn a_duplicate_id_number_elsewhere_is_refused_without_naming_it_and_audited() {
    let (registry, _admin, seed) = seeded_registry().await;
    let mut own = registry
        .client("admin-104", &[roles::TOWNSHIP_ADMIN], TOWNSHIP_SCOPE)
        .await;
    let first = fixtures::household_request(&Uuid::new_v4().to_string(), fixtures::VILLAGES[0], 1);
    own.register_household(first.clone())
        .await
        .expect("registered");
    let again = |village: &str| registry::RegisterHouseholdRequest {
        household_id: Uuid::new_v4().to_string(),
        village_code: village.into(),
        ..first.clone()
    };
    let inside = own
        .register_household(again(fixtures::VILLAGES[1]))
        .await
        .unwrap_err();
    let mut other = registry
        .client("admin-105", &[roles::TOWNSHIP_ADMIN], OTHER_TOWNSHIP_SCOPE)
        .await;
    let outside = other
        .register_household(again(fixtures::OTHER_VILLAGE))
        .await
        .unwrap_err();
    assert_eq!(outside.code(), Code::AlreadyExists);
    assert_eq!(answer(&outside, ""), answer(&inside, ""));
    for secret in [
        first.household_id.as_str(),
        fixtures::VILLAGES[0],
        "430426104",
    ] {
        assert!(!outside.message().contains(secret), "{}", outside.message());
    }
    let first_id = Uuid::parse_str(&first.household_id).expect("id");
    assert_eq!(
        audit_rows(&registry, "admin-105", "id_number").await,
        vec![first_id]
    );
    // A refusal inside the caller's own scope reveals nothing new: no row.
    assert!(
        audit_rows(&registry, "admin-104", "id_number")
            .await
            .is_empty()
    );

    // The batch says the same and audits the same way.
    let batch = other
        .register_households(registry::RegisterHouseholdsRequest {
            households: vec![again(fixtures::OTHER_VILLAGE)],
            all_or_nothing: false,
            validate_only: true,
        })
        .await
        .expect("batch")
        .into_inner();
    let errs = &batch.results[0].errors;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(
        format!("{}: {}", errs[0].field, errs[0].reason),
        outside.message()
    );
    assert_eq!(
        audit_rows(&registry, "admin-105", "id_number").await,
        vec![first_id, first_id]
    );
    let _ = seed;
    registry.stop().await;
}

/// Low, existence oracles. Caught: GetIssue answered PermissionDenied for
/// another township's issue and NotFound for an unknown id.
#[tokio::test]
async fn an_issue_elsewhere_reads_like_an_unknown_one() {
    let database = unique_name("zft");
    let ledger = TestService::start_issues_on(&database, &unique_name("zft"), 3600).await;
    let mut county = ledger
        .issues_client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    let issue_id = Uuid::new_v4().to_string();
    county
        .create_issue(issues::CreateIssueRequest {
            issue_id: issue_id.clone(),
            source: issues::IssueSource::Reception as i32,
            region_code: fixtures::VILLAGES[0].into(),
            kind: zoufang_proto::common::v1::ItemKind::Problem as i32,
            category: "民生工程".into(),
            description: "村里自来水时断时续".into(),
            ..Default::default()
        })
        .await
        .expect("issue");
    let mut outsider = ledger
        .issues_client("admin-2", &[roles::TOWNSHIP_ADMIN], OTHER_TOWNSHIP_SCOPE)
        .await;
    let unknown = Uuid::new_v4().to_string();
    let get = |id: &str| issues::GetIssueRequest {
        issue_id: id.into(),
    };
    let hidden = outsider.get_issue(get(&issue_id)).await.unwrap_err();
    let missing = outsider.get_issue(get(&unknown)).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(answer(&hidden, &issue_id), answer(&missing, &unknown));
    ledger.stop().await;
}

/// Low, existence oracles and over-reach in notify. Caught: GetPreferences
/// answered PermissionDenied naming the region for someone in another
/// township and NotFound for an unknown id; any county-scoped admin edited
/// the templates every county shares.
#[tokio::test]
async fn notify_hides_people_elsewhere_and_keeps_shared_templates_to_the_system_admin() {
    let n = TestNotify::start(&unique_name("zft"), Clock::system(), |_| {}).await;
    let mut county = n
        .client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    county
        .upsert_recipient(notify::UpsertRecipientRequest {
            recipient: Some(recipient(
                "c-105",
                &[roles::CADRE],
                fixtures::OTHER_VILLAGE,
                "",
            )),
            deactivate: false,
        })
        .await
        .expect("recipient");
    let mut township = n
        .client("t-admin", &[roles::TOWNSHIP_ADMIN], TOWNSHIP_SCOPE)
        .await;
    let prefs = |id: &str| notify::GetPreferencesRequest {
        recipient_id: id.into(),
    };
    let hidden = township.get_preferences(prefs("c-105")).await.unwrap_err();
    let missing = township
        .get_preferences(prefs("c-nobody"))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(answer(&hidden, "c-105"), answer(&missing, "c-nobody"));

    let edit = notify::UpdateTemplateRequest {
        template: Some(notify::Template {
            kind: "issue.assigned".into(),
            title: "请办理：{{category}}".into(),
            body: "{{description}}".into(),
            ..Default::default()
        }),
        expected_version: 0,
    };
    let err = county
        .update_template(edit.clone())
        .await
        .expect_err("one county's admin");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let mut system = n.client("root", &[roles::COUNTY_ADMIN], "").await;
    system
        .update_template(edit)
        .await
        .expect("the administrator of everything");
    n.stop().await;
}

/// Low, over-reach. Caught: a township admin's region import renamed the
/// county (rows above the scope were upserted like the caller's own), and a
/// township admin added categories to the whole county's taxonomy.
#[tokio::test]
async fn township_admins_change_neither_the_county_nor_its_taxonomy() {
    let (registry, _admin, _seed) = seeded_registry().await;
    let mut township = registry
        .client("admin-104", &[roles::TOWNSHIP_ADMIN], TOWNSHIP_SCOPE)
        .await;
    let csv = |county_name: &str| {
        [
            "code,name,level,pcode".to_owned(),
            format!("430426000000,{county_name},3,430400000000"),
            "430426104000,白鹤铺镇,4,430426000000".to_owned(),
            "430426104204,新村,5,430426104000".to_owned(),
        ]
        .join("\n")
        .into_bytes()
    };
    let err = township
        .import_regions(registry::ImportRegionsRequest {
            csv: csv("白鹤铺县"),
        })
        .await
        .expect_err("renaming the county");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let name = |code: &'static str| {
        let pool = registry.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT name FROM regions WHERE code = $1")
                .bind(code)
                .fetch_optional(&pool)
                .await
                .expect("name")
        }
    };
    assert_eq!(name("430426000000").await.as_deref(), Some("祁东县"));
    assert_eq!(name("430426104204").await, None, "nothing written");
    // The same file with the county as it is loads the township's rows.
    township
        .import_regions(registry::ImportRegionsRequest {
            csv: csv("祁东县")
        })
        .await
        .expect("unchanged ancestors");
    assert_eq!(name("430426104204").await.as_deref(), Some("新村"));
    registry.stop().await;

    let ledger = TestService::start_issues_on(&unique_name("zft"), &unique_name("zft"), 3600).await;
    let mut township = ledger
        .issues_client("admin-104", &[roles::TOWNSHIP_ADMIN], TOWNSHIP_SCOPE)
        .await;
    let err = township
        .create_category(issues::CreateCategoryRequest {
            name: "乡里新类".into(),
        })
        .await
        .expect_err("the taxonomy is the county's");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let mut county = ledger
        .issues_client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    county
        .create_category(issues::CreateCategoryRequest {
            name: "县里新类".into(),
        })
        .await
        .expect("a county admin extends it");
    ledger.stop().await;
}

/// Low, existence oracles in supervision. Caught: CloseInspection (like
/// GetCallback, through the same pattern) answered PermissionDenied for
/// another township's finding and NotFound for an unknown id.
#[tokio::test]
async fn an_inspection_elsewhere_reads_like_an_unknown_one() {
    use zoufang_proto::supervision::v1 as supervision;
    let database = unique_name("zft");
    // Closing an inspection never calls the registry: no registry runs.
    let service = TestService::start_supervision_on(&database, &unique_name("zft"), 9).await;
    let mut county = service
        .supervision_client("sup-1", &[roles::SUPERVISOR], fixtures::COUNTY)
        .await;
    let inspection_id = Uuid::new_v4().to_string();
    county
        .create_inspection(supervision::CreateInspectionRequest {
            inspection_id: inspection_id.clone(),
            cadre_id: Uuid::new_v4().to_string(),
            region_code: fixtures::VILLAGES[0].into(),
            kind: supervision::FindingKind::DiaryIncomplete as i32,
            finding: "民情日记缺三天".into(),
            rectify_within_days: 7,
        })
        .await
        .expect("inspection");
    let mut outsider = service
        .supervision_client("admin-2", &[roles::TOWNSHIP_ADMIN], OTHER_TOWNSHIP_SCOPE)
        .await;
    let close = |id: &str| supervision::CloseInspectionRequest {
        inspection_id: id.into(),
        note: "已整改".into(),
    };
    let unknown = Uuid::new_v4().to_string();
    let hidden = outsider
        .close_inspection(close(&inspection_id))
        .await
        .unwrap_err();
    let missing = outsider
        .close_inspection(close(&unknown))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(answer(&hidden, &inspection_id), answer(&missing, &unknown));
    service.stop().await;
}
