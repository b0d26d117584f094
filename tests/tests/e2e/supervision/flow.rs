//! Supervision end to end with the registry and the ledger running: a
//! resolved item becomes a callback for the right supervisor; 不满意 reopens
//! it with the same responsible cadre; a visit the resident denies reads
//! disputed in the registry; replayed events make no extra tasks.
use std::time::Duration;

use lapin::options::BasicPublishOptions;
use prost::Message;
use uuid::Uuid;
use zoufang_bus::consumer::default_retry_delays;
use zoufang_e2e::{
    TestService, delete_consumer_queues, eventually, fixtures, quiet, tap::Tap, unique_name,
    wait_for_queue,
};
use zoufang_proto::catalogue;
use zoufang_proto::{
    events::v1::{IssueChanged, Satisfaction},
    issues::v1::*,
    registry::v1::{GetCadreProgressRequest, GetVisitRequest},
    supervision::v1::*,
};

const ADMIN: &[&str] = &["county_admin"];

#[tokio::test]
async fn callbacks_reopen_unsatisfied_items_and_dispute_denied_visits() {
    let database = unique_name("zft");
    let registry = TestService::start_on(&database).await;
    let issues_queue = unique_name("zft");
    let issues = TestService::start_issues_on(&database, &issues_queue, 3600).await;
    let sup_queue = unique_name("zft");
    let supervision =
        TestService::start_supervision_on(&database, &sup_queue, registry.grpc_port).await;
    for q in [
        registry.queue.clone().unwrap(),
        issues_queue.clone(),
        sup_queue.clone(),
    ] {
        wait_for_queue(&q).await;
    }
    let mut tap = Tap::bind(catalogue::issues::RESOLVED).await;

    let mut reg = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut reg).await;
    let mut sup_admin = supervision
        .supervision_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    // The town's team (one member) and the county's (another): the town's is more specific.
    for (region, member) in [("430426104", "sup-town"), ("430426", "sup-county")] {
        sup_admin
            .create_team(CreateTeamRequest {
                team_id: Uuid::new_v4().to_string(),
                name: format!("督查组{member}"),
                region_code: region.into(),
                member_ids: vec![member.into()],
            })
            .await
            .unwrap();
    }
    // Check every item and every visit in this campaign.
    sup_admin
        .set_sampling_policy(SetSamplingPolicyRequest {
            campaign_id: seed.campaign_id.clone(),
            region_code: fixtures::TOWNSHIP.into(),
            policy: Some(SamplingPolicy {
                item_share_bp: 10_000,
                visit_share_bp: 10_000,
                min_visits_per_cadre: 1,
                high_risk_threshold: 60,
                high_risk_visit_share_bp: 10_000,
                due_days: 3,
                max_attempts: 3,
            }),
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;

    let visit = fixtures::visit_request(&seed, &seed.household_ids[0]);
    reg.record_visit(visit.clone()).await.unwrap();

    // The problem item: assign to the visiting cadre, who resolves it.
    let mut ledger = issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let problem = eventually(Duration::from_secs(15), || {
        let mut l = ledger.clone();
        let campaign = seed.campaign_id.clone();
        let vid = visit.visit_id.clone();
        async move {
            let list = l
                .list_issues(ListIssuesRequest {
                    campaign_id: campaign,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner()
                .issues;
            list.into_iter().find(|i| i.visit_id == vid && i.kind == 1)
        }
    })
    .await
    .expect("the problem reached the ledger");
    zoufang_e2e::ledger::await_cadre(&issues.pool, &seed.cadre_id).await;
    let problem = ledger
        .assign_issue(AssignIssueRequest {
            issue_id: problem.issue_id.clone(),
            expected_version: problem.version,
            cadre_id: seed.cadre_id.clone(),
            deadline_days: 10,
            note: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    let mut cadre = issues
        .issues_client(&seed.cadre_id, &["cadre"], "430426104")
        .await;
    cadre
        .resolve_issue(ResolveIssueRequest {
            issue_id: problem.issue_id.clone(),
            expected_version: problem.version,
            resolution: "已联系交通局纳入硬化计划".into(),
        })
        .await
        .unwrap();

    // The callback reaches the town's supervisor, blind to the cadre.
    let mut sup = supervision
        .supervision_client("sup-town", &["supervisor"], fixtures::COUNTY)
        .await;
    let worklist = || {
        let mut s = sup.clone();
        async move {
            s.list_worklist(ListWorklistRequest::default())
                .await
                .unwrap()
                .into_inner()
                .callbacks
        }
    };
    let item_cb = eventually(Duration::from_secs(15), || async {
        worklist()
            .await
            .into_iter()
            .find(|c| c.issue_id == problem.issue_id)
    })
    .await
    .expect("a callback for the resolved problem");
    assert!(!item_cb.summary.contains(&seed.cadre_id));
    let visit_cb = eventually(Duration::from_secs(15), || async {
        worklist()
            .await
            .into_iter()
            .find(|c| c.visit_id == visit.visit_id)
    })
    .await
    .expect("a verification callback for the visit");
    let county_list = supervision
        .supervision_client("sup-county", &["supervisor"], fixtures::COUNTY)
        .await
        .list_worklist(ListWorklistRequest::default())
        .await
        .unwrap()
        .into_inner()
        .callbacks;
    assert!(
        county_list.iter().all(|c| c.issue_id != problem.issue_id),
        "not on another team's list"
    );

    // The number to call comes from the registry, read in the supervisor's name.
    let full = sup
        .get_callback(GetCallbackRequest {
            callback_id: item_cb.callback_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .callback
        .unwrap();
    let household = reg
        .get_household(zoufang_proto::registry::v1::GetHouseholdRequest {
            household_id: seed.household_ids[0].clone(),
            reveal: true,
            purpose: "测试核对".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .household
        .unwrap();
    assert_eq!(full.phone, household.phone, "{full:?}");
    assert_eq!(full.phone.len(), 11, "in full, for dialling");
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM registry.pii_access_audit WHERE actor = 'sup-town' AND purpose LIKE '督查回访%'")
        .fetch_one(&registry.pool)
        .await
        .unwrap();
    assert_eq!(audited, 1, "the registry audited the supervisor's read");
    assert!(
        item_cb.phone.is_empty(),
        "the worklist itself shows no numbers"
    );

    // 不满意 → the item is reopened, still with its cadre.
    let done = sup
        .record_attempt(RecordAttemptRequest {
            callback_id: item_cb.callback_id.clone(),
            method: Method::Phone as i32,
            reached: true,
            fix_confirmed: false,
            satisfaction: Satisfaction::Unsatisfied as i32,
            comment: "路还没修".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .callback
        .unwrap();
    assert_eq!(done.state, CallbackState::Done as i32);
    let reopened = eventually(Duration::from_secs(15), || {
        let mut l = ledger.clone();
        let id = problem.issue_id.clone();
        async move {
            let i = l
                .get_issue(GetIssueRequest { issue_id: id })
                .await
                .ok()?
                .into_inner()
                .issue?;
            (i.state == IssueState::Reopened as i32).then_some(i)
        }
    })
    .await
    .expect("the unsatisfied item is reopened");
    assert_eq!(
        reopened.responsible_cadre_id, seed.cadre_id,
        "back to its responsible cadre"
    );

    // The resident denies the visit → disputed in the registry, against the cadre.
    sup.record_attempt(RecordAttemptRequest {
        callback_id: visit_cb.callback_id.clone(),
        method: Method::OnSite as i32,
        reached: true,
        visit_confirmed: false,
        comment: "户主说没人来过".into(),
        // The back-check: the diary says four members and 350 yuan of help.
        answered_member_count: Some(2),
        answered_help_fen: Some(0),
        ..Default::default()
    })
    .await
    .unwrap();
    let disputed = eventually(Duration::from_secs(15), || {
        let mut r = reg.clone();
        let id = visit.visit_id.clone();
        async move {
            r.get_visit(GetVisitRequest { visit_id: id })
                .await
                .ok()?
                .into_inner()
                .visit?
                .disputed
                .then_some(())
        }
    })
    .await;
    assert!(disputed.is_some(), "the visit reads disputed");
    let progress = reg
        .get_cadre_progress(GetCadreProgressRequest {
            campaign_id: seed.campaign_id.clone(),
            cadre_id: seed.cadre_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(progress.disputed_visits, 1);

    // The cadre's confirmation rate drops, and they are listed.
    let stats = sup_admin
        .get_callback_statistics(GetCallbackStatisticsRequest {
            region_code: "430426104".into(),
            campaign_id: seed.campaign_id.clone(),
            failure_threshold_bp: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let mine = stats
        .by_cadre
        .iter()
        .find(|c| c.cadre_id == seed.cadre_id)
        .expect("the cadre's row")
        .totals
        .unwrap();
    assert_eq!(
        (
            mine.visits_checked,
            mine.visits_not_confirmed,
            mine.visit_confirmation_rate_bp
        ),
        (1, 1, 0)
    );
    assert_eq!(
        mine.backcheck_mismatches, 2,
        "size and help contradict the diary"
    );
    assert_eq!(stats.suspect_cadre_ids, vec![seed.cadre_id.clone()]);
    let totals = stats.totals.unwrap();
    assert_eq!(
        totals.satisfaction_rate_bp, 0,
        "the one answered item was 不满意"
    );
    assert_eq!(totals.reach_rate_bp, 10_000);

    // The assessment (考核) shows each component and the weighted score.
    let assessed = eventually(Duration::from_secs(15), || {
        let mut a = sup_admin.clone();
        let campaign = seed.campaign_id.clone();
        let cadre = seed.cadre_id.clone();
        async move {
            let r = a
                .get_cadre_assessment(GetCadreAssessmentRequest {
                    campaign_id: campaign,
                    region_code: "430426104".into(),
                    weights: None,
                })
                .await
                .ok()?
                .into_inner();
            r.cadres
                .into_iter()
                .find(|c| c.cadre_id == cadre && c.items_in_time == 2)
        }
    })
    .await
    .expect("the cadre is assessed");
    // The one visit was disputed, so no quota counts it; both items were
    // resolved in time; the visit was not confirmed, two of three facts
    // contradicted the diary, and the one answered item was 不满意.
    assert_eq!(
        (
            assessed.coverage,
            assessed.timeliness,
            assessed.verification,
            assessed.backcheck,
            assessed.satisfaction
        ),
        (0, 100, 0, 33, 0)
    );
    assert_eq!(assessed.score, (100 * 25 + 33 * 10) / 100);
    // A campaign the registry does not know is the caller's mistake, not a
    // server error (the gateway fuzz found it answering 500).
    let unknown = sup_admin
        .clone()
        .get_cadre_assessment(GetCadreAssessmentRequest {
            campaign_id: uuid::Uuid::new_v4().to_string(),
            region_code: "430426104".into(),
            weights: None,
        })
        .await
        .expect_err("an unknown campaign");
    assert_eq!(unknown.code(), tonic::Code::NotFound, "{unknown:?}");

    // Replaying a resolved event makes no second task.
    let count = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM supervision.callbacks WHERE issue_id = $1::uuid",
        )
        .bind(&problem.issue_id)
        .fetch_one(&supervision.pool)
        .await
        .unwrap()
    };
    assert_eq!(count().await, 1);
    let seen = tap
        .collect(1, Duration::from_secs(5), |s| {
            IssueChanged::decode(s.payload.as_slice()).is_ok_and(|i| i.issue_id == problem.issue_id)
        })
        .await;
    let conn = zoufang_bus::connect(&zoufang_e2e::amqp_url(), "replay")
        .await
        .unwrap();
    let ch = zoufang_bus::confirm_channel(&conn).await.unwrap();
    ch.basic_publish(
        "".into(),
        format!("{sup_queue}.events").into(),
        BasicPublishOptions::default(),
        &seen[0].payload,
        seen[0].envelope.to_properties(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    quiet::settled(
        &quiet::Consumer::supervision(&sup_queue, &supervision.pool),
        &quiet::Lane::of(&seen[0].envelope),
    )
    .await;
    assert_eq!(count().await, 1, "a replay creates no extra task");

    supervision.stop().await;
    issues.stop().await;
    registry.stop().await;
    delete_consumer_queues(&issues_queue, &default_retry_delays()).await;
}
