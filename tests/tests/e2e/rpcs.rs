//! Every RPC has a behaviour test: these are the ones no other test called
//! (issue 19 counted 13 of 83). Each is given valid requests and its answer
//! is checked against what the test itself wrote, and each is aimed at the
//! other township, where it must be refused or answer nothing.
use std::collections::BTreeSet;

use tonic::Code;
use uuid::Uuid;
use zoufang_e2e::{TestRegistry, fixtures};
use zoufang_proto::registry::v1::*;

/// The other town's admin: scope 太和堂镇.
const OTHER_SCOPE: &str = "430426105";
/// 白鹤铺镇 as a region prefix (list filters take prefixes).
const TOWN_PREFIX: &str = "430426104";

/// Refused as out of scope, or answered as if the thing did not exist.
fn refused(status: &tonic::Status) -> bool {
    matches!(status.code(), Code::PermissionDenied | Code::NotFound)
}

#[tokio::test]
async fn registry_lists_work_zones_assignments_and_visits_in_scope() {
    let registry = TestRegistry::start().await;
    let mut admin = registry
        .client("admin-1", &["county_admin"], fixtures::COUNTY)
        .await;
    let mut outsider = registry
        .client("admin-2", &["township_admin"], OTHER_SCOPE)
        .await;
    let seed = fixtures::seed(&mut admin).await;

    // ListWorkZones: the zone as created, in its township only.
    let zone = CreateWorkZoneRequest {
        zone_id: Uuid::new_v4().to_string(),
        township_code: fixtures::TOWNSHIP.into(),
        name: "第一工作片".into(),
        village_codes: fixtures::VILLAGES[..2]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    admin.create_work_zone(zone.clone()).await.expect("zone");
    let zones = admin
        .list_work_zones(ListWorkZonesRequest {
            township_code: fixtures::TOWNSHIP.into(),
        })
        .await
        .expect("list zones")
        .into_inner()
        .zones;
    assert_eq!(zones.len(), 1, "one zone: {zones:?}");
    assert_eq!(zones[0].zone_id, zone.zone_id);
    assert_eq!(zones[0].name, "第一工作片");
    assert_eq!(zones[0].village_codes, zone.village_codes);
    let elsewhere = admin
        .list_work_zones(ListWorkZonesRequest {
            township_code: fixtures::OTHER_TOWNSHIP.into(),
        })
        .await
        .expect("list the other town's zones")
        .into_inner()
        .zones;
    assert!(elsewhere.is_empty(), "the other town has no zone");
    let err = outsider
        .list_work_zones(ListWorkZonesRequest {
            township_code: fixtures::TOWNSHIP.into(),
        })
        .await
        .expect_err("another town's zones");
    assert!(refused(&err), "{err:?}");

    // ListAssignments: 联系村 and 联系户 as created, filtered by cadre.
    let second_cadre = Uuid::new_v4().to_string();
    admin
        .register_cadre(RegisterCadreRequest {
            cadre_id: second_cadre.clone(),
            name: "唐建国".into(),
            phone: "13807340002".into(),
            unit: CadreUnit::TownshipOffice as i32,
            position: "工作队员".into(),
            region_code: "430426104".into(),
            roles: vec!["cadre".into()],
        })
        .await
        .expect("second cadre");
    let assign = |cadre: &str, target: AssignmentTarget, target_id: &str| CreateAssignmentRequest {
        assignment_id: Uuid::new_v4().to_string(),
        campaign_id: seed.campaign_id.clone(),
        cadre_id: cadre.into(),
        target: target as i32,
        target_id: target_id.into(),
    };
    let made = [
        assign(
            &seed.cadre_id,
            AssignmentTarget::Village,
            fixtures::VILLAGES[0],
        ),
        assign(
            &seed.cadre_id,
            AssignmentTarget::Household,
            &seed.household_ids[2],
        ),
        assign(
            &second_cadre,
            AssignmentTarget::Village,
            fixtures::VILLAGES[1],
        ),
    ];
    for a in &made {
        admin
            .create_assignment(a.clone())
            .await
            .expect("assignment");
    }
    let listed = |cadre: &str| ListAssignmentsRequest {
        campaign_id: seed.campaign_id.clone(),
        cadre_id: cadre.into(),
    };
    let ids = |v: Vec<Assignment>| -> BTreeSet<String> {
        v.into_iter().map(|a| a.assignment_id).collect()
    };
    let all = admin
        .list_assignments(listed(""))
        .await
        .expect("all assignments")
        .into_inner()
        .assignments;
    assert_eq!(
        ids(all.clone()),
        made.iter().map(|a| a.assignment_id.clone()).collect()
    );
    let household = all
        .iter()
        .find(|a| a.assignment_id == made[1].assignment_id)
        .expect("the household assignment");
    assert_eq!(household.target, AssignmentTarget::Household as i32);
    assert_eq!(household.target_id, seed.household_ids[2]);
    assert_eq!(
        household.region_code,
        fixtures::VILLAGES[2],
        "a household's assignment lies in its village"
    );
    let mine = admin
        .list_assignments(listed(&seed.cadre_id))
        .await
        .expect("one cadre's assignments")
        .into_inner()
        .assignments;
    assert_eq!(
        ids(mine),
        made[..2].iter().map(|a| a.assignment_id.clone()).collect()
    );
    match outsider.list_assignments(listed("")).await {
        Ok(answer) => assert!(
            answer.into_inner().assignments.is_empty(),
            "another town's assignments"
        ),
        Err(err) => assert!(refused(&err), "{err:?}"),
    }

    // ListVisits: by village, household, cadre and campaign, in pages.
    let mut recorded = Vec::new();
    for household in &seed.household_ids {
        let req = fixtures::visit_request(&seed, household);
        recorded.push((req.visit_id.clone(), household.clone()));
        admin.record_visit(req).await.expect("record visit");
    }
    let second = fixtures::visit_request(&seed, &seed.household_ids[0]);
    recorded.push((second.visit_id.clone(), seed.household_ids[0].clone()));
    admin.record_visit(second).await.expect("second visit");

    let visits = |req: ListVisitsRequest| {
        let mut c = admin.clone();
        async move { c.list_visits(req).await.expect("list visits").into_inner() }
    };
    let set = |v: &[Visit]| -> BTreeSet<String> { v.iter().map(|v| v.visit_id.clone()).collect() };
    let of_household = |h: &str| -> BTreeSet<String> {
        recorded
            .iter()
            .filter(|(_, hh)| hh == h)
            .map(|(v, _)| v.clone())
            .collect()
    };
    let village0 = visits(ListVisitsRequest {
        region_code: fixtures::VILLAGES[0].into(),
        ..Default::default()
    })
    .await;
    assert_eq!(set(&village0.visits), of_household(&seed.household_ids[0]));
    assert!(
        village0
            .visits
            .iter()
            .all(|v| v.village_code == fixtures::VILLAGES[0])
    );
    let household1 = visits(ListVisitsRequest {
        household_id: seed.household_ids[1].clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(
        set(&household1.visits),
        of_household(&seed.household_ids[1])
    );
    let everyone: BTreeSet<String> = recorded.iter().map(|(v, _)| v.clone()).collect();
    let by_cadre = visits(ListVisitsRequest {
        region_code: TOWN_PREFIX.into(),
        cadre_id: seed.cadre_id.clone(),
        campaign_id: seed.campaign_id.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(set(&by_cadre.visits), everyone);
    let nobody = visits(ListVisitsRequest {
        region_code: TOWN_PREFIX.into(),
        cadre_id: second_cadre.clone(),
        ..Default::default()
    })
    .await;
    assert!(nobody.visits.is_empty(), "the second cadre visited no one");

    // Pages of three: every visit once, then no next page.
    let mut paged = Vec::new();
    let mut token = String::new();
    for _ in 0..5 {
        let page = visits(ListVisitsRequest {
            region_code: TOWN_PREFIX.into(),
            page_size: 3,
            page_token: token.clone(),
            ..Default::default()
        })
        .await;
        assert!(page.visits.len() <= 3, "a page holds at most its size");
        paged.extend(page.visits.into_iter().map(|v| v.visit_id));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert!(token.is_empty(), "the pages end");
    assert_eq!(paged.len(), everyone.len(), "no visit on two pages");
    assert_eq!(paged.into_iter().collect::<BTreeSet<_>>(), everyone);

    match outsider
        .list_visits(ListVisitsRequest {
            region_code: TOWN_PREFIX.into(),
            ..Default::default()
        })
        .await
    {
        Ok(answer) => assert!(
            answer.into_inner().visits.is_empty(),
            "another town's visits"
        ),
        Err(err) => assert!(refused(&err), "{err:?}"),
    }
    match outsider
        .list_visits(ListVisitsRequest {
            household_id: seed.household_ids[0].clone(),
            ..Default::default()
        })
        .await
    {
        Ok(answer) => assert!(
            answer.into_inner().visits.is_empty(),
            "another town's household"
        ),
        Err(err) => assert!(refused(&err), "{err:?}"),
    }
    registry.stop().await;
}

mod notify {
    use std::time::Duration;

    use uuid::Uuid;
    use zoufang_core::{auth::roles, clock::Clock};
    use zoufang_e2e::{
        Notify, TestNotify, eventually, fake_http::FakeHttp, fixtures, ledger::TestLedger,
    };
    use zoufang_proto::{
        common::v1::ItemKind,
        issues::v1::{AssignIssueRequest, CreateIssueRequest, IssueSource},
        notify::v1::*,
    };

    use super::{OTHER_SCOPE, TOWN_PREFIX, refused};

    fn recipient(id: &str, region: &str, phone: &str) -> UpsertRecipientRequest {
        UpsertRecipientRequest {
            recipient: Some(Recipient {
                recipient_id: id.into(),
                name: format!("测试{}", &id[..8]),
                roles: vec![roles::CADRE.into()],
                region_code: region.into(),
                phone: phone.into(),
                active: true,
            }),
            deactivate: false,
        }
    }

    async fn inbox_ids(c: &mut Notify) -> Vec<String> {
        c.list_inbox(ListInboxRequest::default())
            .await
            .expect("inbox")
            .into_inner()
            .notifications
            .into_iter()
            .map(|n| n.notification_id)
            .collect()
    }

    async fn unread(c: &mut Notify) -> i64 {
        c.get_unread_count(GetUnreadCountRequest {})
            .await
            .expect("unread count")
            .into_inner()
            .unread_count
    }

    /// A reception item in the first village assigned to `cadre`; its id.
    async fn assigned_issue(stack: &TestLedger, cadre: &str) -> String {
        let mut ledger = stack
            .issues
            .issues_client("admin-1", &[roles::TOWNSHIP_ADMIN], "430426104")
            .await;
        let created = ledger
            .create_issue(CreateIssueRequest {
                issue_id: Uuid::new_v4().to_string(),
                source: IssueSource::Reception as i32,
                region_code: fixtures::VILLAGES[0].into(),
                kind: ItemKind::Problem as i32,
                category: "民生工程".into(),
                description: "村道路灯损坏".into(),
                ..Default::default()
            })
            .await
            .expect("create issue")
            .into_inner()
            .issue
            .expect("issue");
        ledger
            .assign_issue(AssignIssueRequest {
                issue_id: created.issue_id.clone(),
                expected_version: created.version,
                cadre_id: cadre.into(),
                deadline_days: 7,
                note: String::new(),
            })
            .await
            .expect("assign");
        created.issue_id
    }

    #[tokio::test]
    async fn notify_directory_preferences_unread_counts_and_subscriptions() {
        let stack = TestLedger::start(3600).await;
        let webhook = FakeHttp::start().await;
        let notify = TestNotify::start(&stack.registry.database, Clock::system(), |_| {}).await;
        let mut admin = notify
            .client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
            .await;
        let mut outsider = notify
            .client("admin-2", &[roles::TOWNSHIP_ADMIN], OTHER_SCOPE)
            .await;

        // ListRecipients: the town's people, phones masked, not the other town's.
        let here = stack.cadre("周飞好", "430426104").await;
        let there = format!("cadre-{}", Uuid::new_v4());
        admin
            .upsert_recipient(recipient(&here, fixtures::VILLAGES[0], "13812345678"))
            .await
            .expect("recipient here");
        admin
            .upsert_recipient(recipient(&there, fixtures::OTHER_VILLAGE, "13912345678"))
            .await
            .expect("recipient there");
        let listed = admin
            .list_recipients(ListRecipientsRequest {
                region_code: TOWN_PREFIX.into(),
                role: roles::CADRE.into(),
                ..Default::default()
            })
            .await
            .expect("list recipients")
            .into_inner()
            .recipients;
        let ids: Vec<&str> = listed.iter().map(|r| r.recipient_id.as_str()).collect();
        assert!(ids.contains(&here.as_str()), "{ids:?}");
        assert!(!ids.contains(&there.as_str()), "{ids:?}");
        let shown = listed
            .iter()
            .find(|r| r.recipient_id == here)
            .expect("here");
        assert_eq!(shown.phone, "138****5678", "phones are masked");
        assert_eq!(shown.region_code, fixtures::VILLAGES[0]);
        match outsider
            .list_recipients(ListRecipientsRequest {
                region_code: TOWN_PREFIX.into(),
                ..Default::default()
            })
            .await
        {
            Ok(answer) => assert!(
                answer.into_inner().recipients.is_empty(),
                "another town's people"
            ),
            Err(err) => assert!(refused(&err), "{err:?}"),
        }

        // GetPreferences: the defaults, then what was set, to the admin and
        // to the person; another town's admin learns nothing.
        let defaults = admin
            .get_preferences(GetPreferencesRequest {
                recipient_id: here.clone(),
            })
            .await
            .expect("default preferences")
            .into_inner()
            .preferences
            .expect("preferences");
        assert!(defaults.sms_enabled, "SMS is on by default");
        let wanted = Preferences {
            recipient_id: here.clone(),
            sms_enabled: false,
            digest_enabled: true,
            quiet_start_minute: 22 * 60,
            quiet_end_minute: 7 * 60,
            muted_kinds: vec!["issue.due_soon".into()],
        };
        admin
            .set_preferences(SetPreferencesRequest {
                preferences: Some(wanted.clone()),
            })
            .await
            .expect("set preferences");
        let as_admin = admin
            .get_preferences(GetPreferencesRequest {
                recipient_id: here.clone(),
            })
            .await
            .expect("preferences as admin")
            .into_inner()
            .preferences;
        assert_eq!(as_admin.as_ref(), Some(&wanted));
        let mut person = notify.client(&here, &[roles::CADRE], "430426104").await;
        let own = person
            .get_preferences(GetPreferencesRequest::default())
            .await
            .expect("own preferences")
            .into_inner()
            .preferences;
        assert_eq!(own.as_ref(), Some(&wanted));
        let err = outsider
            .get_preferences(GetPreferencesRequest {
                recipient_id: here.clone(),
            })
            .await
            .expect_err("another town's person");
        assert!(refused(&err), "{err:?}");

        // A webhook on the town and one on the other town.
        let subscribe = |region: &str, name: &str| CreateSubscriptionRequest {
            subscription: Some(Subscription {
                name: name.into(),
                channel: Channel::Webhook as i32,
                region_code: region.into(),
                url: webhook.url("/hook"),
                secret: "webhook-secret-0123456789".into(),
                kinds: vec!["issue.assigned".into()],
                request_id: Uuid::new_v4().to_string(),
                ..Subscription::default()
            }),
        };
        let town = admin
            .create_subscription(subscribe(fixtures::TOWNSHIP, "白鹤铺镇工作群"))
            .await
            .expect("subscribe the town")
            .into_inner()
            .subscription
            .expect("subscription");
        let other = admin
            .create_subscription(subscribe(fixtures::OTHER_TOWNSHIP, "太和堂镇工作群"))
            .await
            .expect("subscribe the other town")
            .into_inner()
            .subscription
            .expect("subscription");

        // GetUnreadCount: two assignments unread, one read, none for others.
        let first = assigned_issue(&stack, &here).await;
        let second = assigned_issue(&stack, &here).await;
        let mine = eventually(Duration::from_secs(20), || {
            let mut p = person.clone();
            async move {
                let got = inbox_ids(&mut p).await;
                (got.len() >= 2).then_some(got)
            }
        })
        .await
        .expect("both assignments reach the inbox");
        assert_eq!(mine.len(), 2);
        assert_eq!(unread(&mut person).await, 2);
        person
            .mark_read(MarkReadRequest {
                notification_ids: vec![mine[0].clone()],
                all: false,
            })
            .await
            .expect("mark read");
        assert_eq!(unread(&mut person).await, 1);
        let mut someone_else = notify.client(&there, &[roles::CADRE], OTHER_SCOPE).await;
        assert_eq!(unread(&mut someone_else).await, 0);
        // The town's webhook took both; the other town's none.
        webhook
            .wait_for_matching(1, Duration::from_secs(20), &first)
            .await;
        webhook
            .wait_for_matching(1, Duration::from_secs(20), &second)
            .await;

        // ListSubscriptions: the town's one only, without its secret.
        let listed = admin
            .list_subscriptions(ListSubscriptionsRequest {
                region_code: TOWN_PREFIX.into(),
            })
            .await
            .expect("list subscriptions")
            .into_inner()
            .subscriptions;
        assert_eq!(
            listed
                .iter()
                .map(|s| s.subscription_id.as_str())
                .collect::<Vec<_>>(),
            vec![town.subscription_id.as_str()]
        );
        assert!(listed[0].active && listed[0].secret.is_empty());
        match outsider
            .list_subscriptions(ListSubscriptionsRequest {
                region_code: TOWN_PREFIX.into(),
            })
            .await
        {
            Ok(answer) => assert!(answer.into_inner().subscriptions.is_empty()),
            Err(err) => assert!(refused(&err), "{err:?}"),
        }

        // DisableSubscription: not by the other town; by the county, and
        // then the next assignment reaches the inbox but not the webhook.
        let err = outsider
            .disable_subscription(DisableSubscriptionRequest {
                subscription_id: town.subscription_id.clone(),
            })
            .await
            .expect_err("another town's subscription");
        assert!(refused(&err), "{err:?}");
        let disabled = admin
            .disable_subscription(DisableSubscriptionRequest {
                subscription_id: town.subscription_id.clone(),
            })
            .await
            .expect("disable")
            .into_inner()
            .subscription
            .expect("subscription");
        assert!(!disabled.active);
        let still = admin
            .list_subscriptions(ListSubscriptionsRequest {
                region_code: fixtures::COUNTY.into(),
            })
            .await
            .expect("list")
            .into_inner()
            .subscriptions;
        let state = |id: &str| {
            still
                .iter()
                .find(|s| s.subscription_id == id)
                .map(|s| s.active)
        };
        assert_eq!(state(&town.subscription_id), Some(false));
        assert_eq!(state(&other.subscription_id), Some(true));

        let third = assigned_issue(&stack, &here).await;
        eventually(Duration::from_secs(20), || {
            let mut p = person.clone();
            async move { (inbox_ids(&mut p).await.len() >= 3).then_some(()) }
        })
        .await
        .expect("the third assignment reaches the inbox");
        // The notification and its deliveries are written together, so
        // once the inbox has it every delivery it will get exists: the
        // delivery list holds none for the disabled webhook.
        let deliveries = admin
            .list_deliveries(ListDeliveriesRequest {
                region_code: TOWN_PREFIX.into(),
                channel: Channel::Webhook as i32,
                page_size: 100,
                ..Default::default()
            })
            .await
            .expect("deliveries")
            .into_inner()
            .deliveries;
        assert_eq!(
            deliveries.len(),
            2,
            "only the two assignments before the disable: {deliveries:?}"
        );
        assert!(
            deliveries.iter().all(|d| d.target == town.subscription_id),
            "nothing for the other town's webhook"
        );
        assert!(webhook.requests_matching(&third).is_empty());

        notify.stop().await;
        stack.stop().await;
    }
}

mod petition {
    use std::time::Duration;

    use chrono::Utc;
    use tonic::Code;
    use zoufang_core::clock::Clock;
    use zoufang_e2e::{
        FakePetitionSystem, TestPetition, TestService, eventually, petition, unique_name,
    };
    use zoufang_proto::{
        petition::v1::{
            AcceptCaseRequest, DecideReviewRequest, GetCaseRequest, ListSourcesRequest, Outcome,
            RefuseCaseRequest, ReplyCaseRequest, RequestReviewRequest, Stage,
        },
        registry::v1::ImportRegionsRequest,
    };

    use super::refused;

    /// A bureau of another town of the petition fixtures' county.
    const OTHER_SCOPE: &str = "430482101";

    /// The bridge with its registry and the fake system registered.
    async fn bridge() -> (TestService, TestPetition, FakePetitionSystem) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let database = unique_name("zft");
        let registry = TestService::start_on(&database).await;
        let mut admin = registry.client("admin", &["county_admin"], "").await;
        admin
            .import_regions(ImportRegionsRequest {
                csv: petition::region_csv().into_bytes(),
            })
            .await
            .expect("import regions");
        let bridge = TestPetition::start(&database, Clock::system(), registry.grpc_port).await;
        let fake = FakePetitionSystem::register(&bridge).await;
        (registry, bridge, fake)
    }

    /// Sends a new case; its case id.
    async fn new_case(fake: &FakePetitionSystem, external: &str, serial: u32) -> String {
        let sent = fake
            .send(&fake.case(
                external,
                1,
                &petition::id_number(serial),
                Utc::now() - chrono::Duration::days(1),
            ))
            .await;
        assert_eq!(sent.status, 201, "{:?}", sent.body);
        sent.body["case_id"].as_str().expect("case id").to_owned()
    }

    /// Waits for the source to hear `change` of the case.
    async fn heard(fake: &FakePetitionSystem, external: &str, change: &str) {
        eventually(Duration::from_secs(20), || async {
            (!fake.answers_for(external, change).is_empty()).then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("the source hears {change} of {external}"));
    }

    #[tokio::test]
    async fn petition_sources_refusals_and_review_decisions() {
        let (registry, bridge, fake) = bridge().await;
        let mut bureau = bridge
            .client("bureau", &["petition_bureau"], petition::COUNTY)
            .await;
        let mut outsider = bridge
            .client("bureau-2", &["petition_bureau"], OTHER_SCOPE)
            .await;

        // ListSources: the registered system, its secret never shown; a
        // township's bureau does not see the county's system.
        let sources = bureau
            .list_sources(ListSourcesRequest {})
            .await
            .expect("list sources")
            .into_inner()
            .sources;
        let ours = sources
            .iter()
            .find(|s| s.source_system == fake.name)
            .expect("the fake system is listed");
        assert_eq!(ours.region_code, petition::COUNTY);
        assert_eq!(ours.display_name, "常宁市信访信息系统");
        assert!(ours.has_secret);
        assert!(ours.callback_url.ends_with("/answers"));
        match outsider.list_sources(ListSourcesRequest {}).await {
            Ok(answer) => assert!(
                !answer
                    .into_inner()
                    .sources
                    .iter()
                    .any(|s| s.source_system == fake.name),
                "a township bureau sees the county's system"
            ),
            Err(err) => assert!(refused(&err), "{err:?}"),
        }

        // RefuseCase (不予受理): a reason is required and names the field;
        // another town cannot; then the case is closed and the source hears it.
        let external = unique_name("XF-");
        let case_id = new_case(&fake, &external, 31).await;
        let err = bureau
            .refuse_case(RefuseCaseRequest {
                case_id: case_id.clone(),
                expected_version: 0,
                reason: "  ".into(),
            })
            .await
            .expect_err("no reason");
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(err.message().contains("reason"), "{}", err.message());
        let err = outsider
            .refuse_case(RefuseCaseRequest {
                case_id: case_id.clone(),
                expected_version: 0,
                reason: "不属于本机关职责范围".into(),
            })
            .await
            .expect_err("another town's case");
        assert!(refused(&err), "{err:?}");
        let refused_case = bureau
            .refuse_case(RefuseCaseRequest {
                case_id: case_id.clone(),
                expected_version: 0,
                reason: "不属于本机关职责范围".into(),
            })
            .await
            .expect("refuse")
            .into_inner()
            .case
            .expect("case");
        assert_eq!(refused_case.stage, Stage::NotAccepted as i32);
        assert!(refused_case.due_at.is_none(), "a closed case has no clock");
        heard(&fake, &external, "not_accepted").await;
        let err = bureau
            .accept_case(AcceptCaseRequest {
                case_id: case_id.clone(),
                expected_version: 0,
                note: String::new(),
                new_facts: false,
            })
            .await
            .expect_err("a refused case is not accepted later");
        assert_eq!(err.code(), Code::FailedPrecondition);

        // DecideReview: 复查 changes the answer, 复核 makes it final.
        let external = unique_name("XF-");
        let case_id = new_case(&fake, &external, 32).await;
        bureau
            .accept_case(AcceptCaseRequest {
                case_id: case_id.clone(),
                expected_version: 0,
                note: String::new(),
                new_facts: false,
            })
            .await
            .expect("accept");
        bureau
            .reply_case(ReplyCaseRequest {
                case_id: case_id.clone(),
                expected_version: 0,
                outcome: Outcome::NotSupported as i32,
                text: "诉求不符合政策规定".into(),
            })
            .await
            .expect("reply");
        let decide = |outcome: Outcome, text: &str| DecideReviewRequest {
            case_id: case_id.clone(),
            expected_version: 0,
            outcome: outcome as i32,
            text: text.into(),
        };
        let err = bureau
            .decide_review(decide(Outcome::Supported, "复查支持"))
            .await
            .expect_err("no review was requested");
        assert_eq!(err.code(), Code::FailedPrecondition);
        let review = |note: &str| RequestReviewRequest {
            case_id: case_id.clone(),
            expected_version: 0,
            note: note.into(),
        };
        bureau
            .request_review(review("申请复查"))
            .await
            .expect("review");
        let err = outsider
            .decide_review(decide(Outcome::Supported, "复查支持"))
            .await
            .expect_err("another town's case");
        assert!(refused(&err), "{err:?}");
        let reviewed = bureau
            .decide_review(decide(Outcome::Supported, "经复查，诉求合理，予以支持"))
            .await
            .expect("decide the review")
            .into_inner()
            .case
            .expect("case");
        assert_eq!(reviewed.stage, Stage::Reviewed as i32);
        assert_eq!(reviewed.outcome, Outcome::Supported as i32);
        assert_eq!(reviewed.reply_text, "经复查，诉求合理，予以支持");
        heard(&fake, &external, "reviewed").await;

        bureau
            .request_review(review("申请复核"))
            .await
            .expect("re-review");
        let last = bureau
            .decide_review(decide(Outcome::Explained, "复核维持"))
            .await
            .expect("decide the re-review")
            .into_inner()
            .case
            .expect("case");
        assert_eq!(last.stage, Stage::Final as i32, "a re-review is final");
        assert_eq!(last.outcome, Outcome::Explained as i32);
        heard(&fake, &external, "rereviewed").await;
        let err = bureau
            .request_review(review("再次申请"))
            .await
            .expect_err("nothing after the re-review");
        assert_eq!(err.code(), Code::FailedPrecondition);
        let stored = bureau
            .get_case(GetCaseRequest {
                case_id: case_id.clone(),
            })
            .await
            .expect("case")
            .into_inner()
            .case
            .expect("case");
        assert_eq!(stored.version, last.version, "the refusals changed nothing");

        bridge.stop().await;
        registry.stop().await;
    }
}

mod ledger_and_supervision {
    use std::collections::BTreeSet;

    use chrono::Utc;
    use uuid::Uuid;
    use zoufang_core::auth::roles;
    use zoufang_e2e::{TestService, fixtures, unique_name, wait_for_queue};
    use zoufang_proto::{
        common::v1::ItemKind,
        issues::v1::{CreateIssueRequest, IssueSource, Priority, SetSlaRulesRequest, SlaRule},
        supervision::v1::{CreateTeamRequest, ListTeamsRequest},
    };

    use super::{OTHER_SCOPE, refused};

    #[tokio::test]
    async fn sla_rules_set_the_deadlines_of_new_items() {
        let database = unique_name("zft");
        let queue = unique_name("zft");
        let ledger = TestService::start_issues_on(&database, &queue, 3600).await;
        let mut county = ledger
            .issues_client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
            .await;
        let campaign_id = Uuid::new_v4().to_string();
        let rule = |kind: ItemKind, category: &str, priority: Priority, days: i32| SlaRule {
            kind: kind as i32,
            category: category.into(),
            priority: priority as i32,
            days,
        };
        let rules = vec![
            rule(ItemKind::Problem, "城镇建设", Priority::Unspecified, 3),
            rule(ItemKind::Dispute, "", Priority::Unspecified, 5),
            rule(ItemKind::Unspecified, "", Priority::Unspecified, 20),
        ];
        let set = |rules: Vec<SlaRule>| SetSlaRulesRequest {
            campaign_id: campaign_id.clone(),
            region_code: "430426000000".into(),
            rules,
        };
        let stored = county
            .set_sla_rules(set(rules.clone()))
            .await
            .expect("set the rules")
            .into_inner()
            .rules;
        assert_eq!(stored.len(), 3, "{stored:?}");
        let bad = county
            .set_sla_rules(set(vec![rule(
                ItemKind::Unspecified,
                "",
                Priority::Unspecified,
                0,
            )]))
            .await
            .expect_err("zero days");
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
        assert!(bad.message().contains("rules[0].days"), "{}", bad.message());

        // Days until each new item's deadline.
        let creator = county.clone();
        let days_for = |kind: ItemKind, category: &'static str| {
            let mut c = creator.clone();
            let campaign_id = campaign_id.clone();
            async move {
                let before = Utc::now().timestamp();
                let issue = c
                    .create_issue(CreateIssueRequest {
                        issue_id: Uuid::new_v4().to_string(),
                        source: IssueSource::Reception as i32,
                        region_code: fixtures::VILLAGES[0].into(),
                        campaign_id,
                        kind: kind as i32,
                        category: category.into(),
                        description: "群众来访反映".into(),
                        households_involved: 2,
                        ..Default::default()
                    })
                    .await
                    .expect("create issue")
                    .into_inner()
                    .issue
                    .expect("issue");
                let deadline = issue.deadline.expect("a deadline").seconds;
                // Whole days from creation, allowing for the seconds the call took.
                (deadline - before + 60) / 86_400
            }
        };
        assert_eq!(days_for(ItemKind::Problem, "城镇建设").await, 3);
        assert_eq!(days_for(ItemKind::Dispute, "矛盾纠纷").await, 5);
        assert_eq!(days_for(ItemKind::Suggestion, "民生工程").await, 20);

        // Replacing the rules changes the next items, not the stored ones.
        county
            .set_sla_rules(set(vec![rule(
                ItemKind::Unspecified,
                "",
                Priority::Unspecified,
                10,
            )]))
            .await
            .expect("replace the rules");
        assert_eq!(days_for(ItemKind::Problem, "城镇建设").await, 10);

        let mut outsider = ledger
            .issues_client("admin-2", &[roles::TOWNSHIP_ADMIN], OTHER_SCOPE)
            .await;
        let err = outsider
            .set_sla_rules(set(rules))
            .await
            .expect_err("a township admin sets no county rules");
        assert!(
            matches!(
                err.code(),
                tonic::Code::PermissionDenied | tonic::Code::NotFound
            ),
            "{err:?}"
        );
        assert_eq!(
            days_for(ItemKind::Problem, "城镇建设").await,
            10,
            "the refused request changed nothing"
        );
        ledger.stop().await;
        zoufang_e2e::delete_consumer_queues(&queue, &zoufang_bus::consumer::default_retry_delays())
            .await;
    }

    #[tokio::test]
    async fn teams_are_listed_by_region_within_the_callers_scope() {
        let database = unique_name("zft");
        let registry = TestService::start_on(&database).await;
        let queue = unique_name("zft");
        let supervision =
            TestService::start_supervision_on(&database, &queue, registry.grpc_port).await;
        wait_for_queue(&queue).await;
        let mut admin = supervision
            .supervision_client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
            .await;
        let mut made = Vec::new();
        for (region, name, members) in [
            ("430426104", "白鹤铺镇督查组", vec!["sup-1", "sup-2"]),
            ("430426105", "太和堂镇督查组", vec!["sup-3"]),
            ("430426", "县督查组", vec!["sup-4"]),
        ] {
            let team_id = Uuid::new_v4().to_string();
            admin
                .create_team(CreateTeamRequest {
                    team_id: team_id.clone(),
                    name: name.into(),
                    region_code: region.into(),
                    member_ids: members.iter().map(|m| m.to_string()).collect(),
                })
                .await
                .expect("create team");
            made.push(team_id);
        }
        let listed = |region: &str| ListTeamsRequest {
            region_code: region.into(),
        };
        let town = admin
            .list_teams(listed("430426104"))
            .await
            .expect("the town's teams")
            .into_inner()
            .teams;
        assert_eq!(town.len(), 1, "{town:?}");
        assert_eq!(town[0].team_id, made[0]);
        assert_eq!(town[0].name, "白鹤铺镇督查组");
        assert_eq!(town[0].member_ids, vec!["sup-1", "sup-2"]);
        let all: BTreeSet<String> = admin
            .list_teams(listed(""))
            .await
            .expect("the county's teams")
            .into_inner()
            .teams
            .into_iter()
            .map(|t| t.team_id)
            .collect();
        assert_eq!(all, made.iter().cloned().collect());

        let mut outsider = supervision
            .supervision_client("admin-2", &[roles::TOWNSHIP_ADMIN], OTHER_SCOPE)
            .await;
        match outsider.list_teams(listed("430426104")).await {
            Ok(answer) => assert!(answer.into_inner().teams.is_empty()),
            Err(err) => assert!(refused(&err), "{err:?}"),
        }
        let own: Vec<String> = outsider
            .list_teams(listed(""))
            .await
            .expect("own teams")
            .into_inner()
            .teams
            .into_iter()
            .map(|t| t.team_id)
            .collect();
        assert_eq!(own, vec![made[1].clone()], "only the town's own team");

        supervision.stop().await;
        registry.stop().await;
        zoufang_e2e::delete_consumer_queues(&queue, &zoufang_bus::consumer::default_retry_delays())
            .await;
    }
}
