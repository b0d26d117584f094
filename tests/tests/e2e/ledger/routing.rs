//! The ledger's routing rules end to end: callback outcomes verify or reopen
//! (and escalate after too many rounds), conflicts of interest, department
//! visibility, the category taxonomy and the summary statistics.
use std::time::Duration;

use lapin::options::BasicPublishOptions;
use prost::Message;
use tonic::Code;
use uuid::Uuid;
use zoufang_e2e::{
    eventually, fixtures,
    ledger::{TestLedger, assigned, issue, reception_issue, state_of},
};
use zoufang_proto::catalogue;
use zoufang_proto::{
    common::v1::ItemKind,
    events::v1::{CallbackCompleted, Satisfaction},
    issues::v1::*,
};

const ADMIN: &[&str] = &["county_admin"];

#[tokio::test]
async fn callbacks_verify_or_reopen_and_loops_escalate() {
    let stack = TestLedger::start(3600).await;
    let mut admin = stack
        .issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let publish = |issue_id: String, satisfied: bool| {
        let queue = stack.queue.clone();
        async move {
            let payload = CallbackCompleted {
                callback_id: Uuid::new_v4().to_string(),
                issue_id,
                reached: true,
                fix_confirmed: satisfied,
                satisfaction: if satisfied {
                    Satisfaction::Satisfied
                } else {
                    Satisfaction::Unsatisfied
                } as i32,
                comment: if satisfied {
                    "满意"
                } else {
                    "问题没有解决"
                }
                .into(),
                supervisor_id: "sup-9".into(),
                ..Default::default()
            };
            let env = zoufang_bus::Envelope {
                id: Uuid::now_v7(),
                source: "/zoufang/supervision".into(),
                routing_key: catalogue::supervision::CALLBACK_COMPLETED.into(),
                subject: "callbacks/x".into(),
                time: chrono::Utc::now(),
                county: fixtures::COUNTY.into(),
                trace: Default::default(),
                attempt: 0,
            };
            let conn = zoufang_bus::connect(&zoufang_e2e::amqp_url(), "test-supervision")
                .await
                .unwrap();
            let ch = zoufang_bus::confirm_channel(&conn).await.unwrap();
            ch.basic_publish(
                "".into(),
                format!("{queue}.events").into(),
                BasicPublishOptions::default(),
                &payload.encode_to_vec(),
                env.to_properties(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        }
    };
    let watcher = admin.clone();
    let wait_state = |id: String, want: IssueState| {
        let mut c = watcher.clone();
        async move {
            eventually(Duration::from_secs(10), || {
                let (mut c, id) = (c.clone(), id.clone());
                async move {
                    let (i, _) = issue(&mut c, &id).await;
                    (state_of(&i) == want).then_some(i)
                }
            })
            .await
            .unwrap_or_else(|| panic!("issue {id} never became {want:?}"));
            let (i, _) = issue(&mut c, &id).await;
            i
        }
    };

    let cadre = stack.cadre("周飞好", "430426104").await;
    let i = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    let i = assigned(&mut admin, i, &cadre).await;
    let i = admin
        .resolve_issue(ResolveIssueRequest {
            issue_id: i.issue_id.clone(),
            expected_version: i.version,
            resolution: "已处理".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    publish(i.issue_id.clone(), true).await;
    let i = wait_state(i.issue_id.clone(), IssueState::Verified).await;
    assert_eq!(i.reopen_count, 0);

    // Unsatisfied twice → two rounds; the third time it goes one level up.
    let j = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    let j = assigned(&mut admin, j, &cadre).await;
    let mut version = j.version;
    for round in 1..=3 {
        let r = admin
            .resolve_issue(ResolveIssueRequest {
                issue_id: j.issue_id.clone(),
                expected_version: version,
                resolution: format!("第{round}次整改"),
            })
            .await;
        let r = r
            .unwrap_or_else(|e| panic!("round {round}: {e:?}"))
            .into_inner()
            .issue
            .unwrap();
        publish(j.issue_id.clone(), false).await;
        let want = if round < 3 {
            IssueState::Reopened
        } else {
            IssueState::Escalated
        };
        let after = wait_state(j.issue_id.clone(), want).await;
        assert_eq!(after.reopen_count, round);
        version = after.version;
        let _ = r;
        if round == 3 {
            assert_eq!(after.escalation_level, 1);
            assert_eq!(after.department, "县直部门");
        }
    }
    stack.stop().await;
}

#[tokio::test]
async fn conflicts_of_interest_departments_and_statistics() {
    let stack = TestLedger::start(3600).await;
    let mut admin = stack
        .issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let accused = Uuid::new_v4().to_string();
    let i = reception_issue(&mut admin, ItemKind::Problem, vec![accused.clone()]).await;
    let err = admin
        .assign_issue(AssignIssueRequest {
            issue_id: i.issue_id.clone(),
            expected_version: i.version,
            cadre_id: accused,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("one level up"), "{}", err.message());

    // Bad input names the field and writes nothing.
    let before = stack
        .count("SELECT count(*) FROM issues WHERE $1 = $1", "x")
        .await;
    let bad = admin
        .create_issue(CreateIssueRequest {
            issue_id: Uuid::new_v4().to_string(),
            source: IssueSource::Hotline as i32,
            region_code: "4304261042011".into(),
            kind: 1,
            category: "民生工程".into(),
            description: "x".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("region_code"));
    let bad = admin
        .create_issue(CreateIssueRequest {
            issue_id: Uuid::new_v4().to_string(),
            source: IssueSource::Hotline as i32,
            region_code: fixtures::VILLAGES[0].into(),
            kind: 1,
            category: "不存在的类别".into(),
            description: "x".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(bad.message().contains("category"));
    assert_eq!(
        stack
            .count("SELECT count(*) FROM issues WHERE $1 = $1", "x")
            .await,
        before
    );

    // An admin extends the taxonomy.
    admin
        .create_category(CreateCategoryRequest {
            name: "殡葬改革".into(),
        })
        .await
        .unwrap();
    let cats = admin
        .list_categories(ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories;
    assert!(cats.iter().any(|c| c.name == "殡葬改革" && !c.builtin));
    assert!(cats.iter().any(|c| c.name == "信访积案" && c.builtin));

    // Statistics: a dispute mediated with its households, an explained item, an escalation.
    let campaign = Uuid::new_v4().to_string();
    let mk = |kind: ItemKind, n: i32| CreateIssueRequest {
        issue_id: Uuid::new_v4().to_string(),
        source: IssueSource::Reception as i32,
        region_code: fixtures::VILLAGES[1].into(),
        campaign_id: campaign.clone(),
        kind: kind as i32,
        category: "矛盾纠纷".into(),
        description: "邻里纠纷".into(),
        households_involved: n,
        ..Default::default()
    };
    let d = admin
        .create_issue(mk(ItemKind::Dispute, 4))
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    let cadre = stack.cadre("周飞好", "430426104").await;
    let d = assigned(&mut admin, d, &cadre).await;
    admin
        .resolve_issue(ResolveIssueRequest {
            issue_id: d.issue_id.clone(),
            expected_version: d.version,
            resolution: "调解达成协议".into(),
        })
        .await
        .unwrap();
    let s = admin
        .create_issue(mk(ItemKind::Suggestion, 0))
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    admin
        .explain_issue(ExplainIssueRequest {
            issue_id: s.issue_id.clone(),
            expected_version: s.version,
            explanation: "已纳入规划".into(),
            resident_acknowledged: true,
        })
        .await
        .unwrap();
    let e = admin
        .create_issue(mk(ItemKind::Problem, 0))
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    admin
        .escalate_issue(EscalateIssueRequest {
            issue_id: e.issue_id.clone(),
            expected_version: e.version,
            department: "县交通局".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let stats = admin
        .get_issue_statistics(GetIssueStatisticsRequest {
            region_code: "430426104".into(),
            campaign_id: campaign.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            stats.collected,
            stats.disputes,
            stats.suggestions,
            stats.problems,
            stats.disputes_mediated,
            stats.dispute_households,
            stats.explained,
            stats.escalated,
            stats.resolved_in_time,
            stats.open
        ),
        (3, 1, 1, 1, 1, 4, 1, 1, 1, 1)
    );

    // A department sees only what was escalated to it.
    let mut dept = stack
        .issues
        .issues_client("县交通局", &["department"], fixtures::COUNTY)
        .await;
    let visible = dept
        .list_issues(ListIssuesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .issues;
    assert_eq!(
        visible
            .iter()
            .map(|i| i.issue_id.as_str())
            .collect::<Vec<_>>(),
        vec![e.issue_id.as_str()]
    );
    assert_eq!(
        dept.get_issue(GetIssueRequest {
            issue_id: d.issue_id.clone()
        })
        .await
        .unwrap_err()
        .code(),
        Code::NotFound
    );

    // Another township's token sees nothing of this one.
    let mut outsider = stack
        .issues
        .issues_client("x", &["township_admin"], "430426105")
        .await;
    assert_eq!(
        outsider
            .get_issue(GetIssueRequest {
                issue_id: d.issue_id.clone()
            })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    stack.stop().await;
}
