//! The issue ledger end to end: visits become entries exactly once, an item
//! lives through every state, concurrent edits are safe, deadlines announce
//! themselves once, and callback outcomes verify or reopen.
use std::time::Duration;

use lapin::options::BasicPublishOptions;
use prost::Message;
use tonic::Code;
use zoufang_e2e::{
    TestService, eventually, fixtures,
    ledger::{TestLedger, assigned, issue, reception_issue, state_of},
    quiet,
    tap::Tap,
};
use zoufang_proto::catalogue;
use zoufang_proto::{
    common::v1::{ItemKind, RaisedItem},
    events::v1::VisitRecorded,
    issues::v1::*,
};

const ADMIN: &[&str] = &["county_admin"];

#[tokio::test]
async fn a_visit_with_three_items_becomes_three_entries_exactly_once() {
    let stack = TestLedger::start(3600).await;
    let mut tap = Tap::bind(catalogue::registry::VISIT_RECORDED).await;
    let mut admin = stack
        .registry
        .client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let seed = fixtures::seed(&mut admin).await;
    let mut req = fixtures::visit_request(&seed, &seed.household_ids[0]);
    req.items.push(RaisedItem {
        item_no: 3,
        kind: ItemKind::Suggestion as i32,
        category: "经济发展".into(),
        description: "希望引进农产品加工企业".into(),
        ..Default::default()
    });
    let visit_id = req.visit_id.clone();
    admin.record_visit(req).await.expect("record visit");

    let by_visit = "SELECT count(*) FROM issues WHERE visit_id = $1::uuid";
    let created = eventually(Duration::from_secs(15), || async {
        (stack.count(by_visit, &visit_id).await == 3).then_some(())
    })
    .await;
    assert!(created.is_some(), "three ledger entries");
    let created_events =
        "SELECT count(*) FROM outbox o JOIN issues i ON o.subject = 'issues/' || i.issue_id
                          WHERE i.visit_id = $1::uuid AND o.routing_key = 'issues.issue.created'";
    assert_eq!(stack.count(created_events, &visit_id).await, 3);

    // The dispute was mediated on the spot: it arrives resolved.
    let mut ledger = stack
        .issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let list = ledger
        .list_issues(ListIssuesRequest {
            campaign_id: seed.campaign_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues;
    let mine: Vec<_> = list.iter().filter(|i| i.visit_id == visit_id).collect();
    assert_eq!(mine.len(), 3);
    let dispute = mine
        .iter()
        .find(|i| i.kind == ItemKind::Dispute as i32)
        .unwrap();
    assert_eq!(state_of(dispute), IssueState::Resolved);
    assert_eq!(dispute.disposition, Disposition::OnSpot as i32);
    assert_eq!(dispute.households_involved, 2);

    // Redeliver the very same event: nothing new.
    let seen = tap
        .collect(1, Duration::from_secs(10), |s| {
            VisitRecorded::decode(s.payload.as_slice()).is_ok_and(|v| v.visit_id == visit_id)
        })
        .await;
    let conn = zoufang_bus::connect(&zoufang_e2e::amqp_url(), "redeliver")
        .await
        .unwrap();
    let ch = zoufang_bus::confirm_channel(&conn).await.unwrap();
    ch.basic_publish(
        "".into(),
        format!("{}.events", stack.queue).into(),
        BasicPublishOptions::default(),
        &seen[0].payload,
        seen[0].envelope.to_properties(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    // Applied (or dropped) once a marker behind it in its lane is, and
    // anything it wrote is published.
    quiet::settled(&stack.consumer(), &quiet::Lane::of(&seen[0].envelope)).await;
    assert_eq!(
        stack.count(by_visit, &visit_id).await,
        3,
        "a redelivery creates nothing"
    );
    assert_eq!(
        stack.count(created_events, &visit_id).await,
        3,
        "and publishes nothing"
    );
    stack.stop().await;
}

#[tokio::test]
async fn an_item_lives_through_every_state() {
    let stack = TestLedger::start(3600).await;
    let mut admin = stack
        .issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let cadre = stack.cadre("周飞好", "430426104").await;
    let mut cadre_client = stack
        .issues
        .issues_client(&cadre, &["cadre"], "430426104")
        .await;
    let mut dept = stack
        .issues
        .issues_client("县水利局", &["department"], fixtures::COUNTY)
        .await;
    let mut supervisor = stack
        .issues
        .issues_client("sup-1", &["supervisor"], fixtures::COUNTY)
        .await;

    let i = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    let id = i.issue_id.clone();
    assert_eq!(state_of(&i), IssueState::Open);
    assert!(i.deadline.is_some(), "an SLA deadline from the start");

    let i = admin
        .assign_issue(AssignIssueRequest {
            issue_id: id.clone(),
            expected_version: i.version,
            cadre_id: cadre.clone(),
            deadline_days: 10,
            note: "限时解决".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert_eq!(
        (state_of(&i), i.disposition),
        (IssueState::Assigned, Disposition::TimeLimited as i32)
    );
    let i = cadre_client
        .start_issue(StartIssueRequest {
            issue_id: id.clone(),
            expected_version: i.version,
            note: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert_eq!(state_of(&i), IssueState::InProgress);

    // A department cannot see it before it is escalated to it.
    assert_eq!(
        dept.get_issue(GetIssueRequest {
            issue_id: id.clone()
        })
        .await
        .unwrap_err()
        .code(),
        Code::NotFound
    );
    let i = admin
        .escalate_issue(EscalateIssueRequest {
            issue_id: id.clone(),
            expected_version: i.version,
            department: "县水利局".into(),
            assisting_departments: vec!["县住建局".into()],
            sign_within_hours: 24,
            note: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert_eq!(state_of(&i), IssueState::Escalated);
    // Not resolvable before it is signed for.
    let err = dept
        .resolve_issue(ResolveIssueRequest {
            issue_id: id.clone(),
            expected_version: i.version,
            resolution: "已修复".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let i = dept
        .sign_issue(SignIssueRequest {
            issue_id: id.clone(),
            expected_version: i.version,
            note: "签收".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert!(i.signed_at.is_some());
    let i = dept
        .resolve_issue(ResolveIssueRequest {
            issue_id: id.clone(),
            expected_version: i.version,
            resolution: "更换主管道".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert_eq!(state_of(&i), IssueState::Resolved);

    // Unsatisfied: reopened for a second, shorter round.
    let i = supervisor
        .reopen_issue(ReopenIssueRequest {
            issue_id: id.clone(),
            expected_version: i.version,
            reason: "回访仍停水".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert_eq!(
        (state_of(&i), i.reopen_count, i.rectification_round),
        (IssueState::Reopened, 1, 2)
    );
    let i = cadre_client
        .resolve_issue(ResolveIssueRequest {
            issue_id: id.clone(),
            expected_version: i.version,
            resolution: "加装加压泵".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    let i = supervisor
        .verify_issue(VerifyIssueRequest {
            issue_id: id.clone(),
            expected_version: i.version,
            note: "回访满意".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert_eq!(state_of(&i), IssueState::Verified);

    // An illegal move names the current state.
    let err = cadre_client
        .start_issue(StartIssueRequest {
            issue_id: id.clone(),
            expected_version: i.version,
            note: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("verified"), "{}", err.message());

    let (_, timeline) = issue(&mut admin, &id).await;
    let actions: Vec<_> = timeline.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "create", "assign", "start", "escalate", "sign", "resolve", "reopen", "resolve",
            "verify"
        ]
    );
    assert_eq!(timeline[3].actor, "admin-1");
    assert_eq!(timeline[4].actor, "县水利局");

    // Explained, with the resident's acknowledgment; returned by a department; merged.
    let e = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    let e = admin
        .explain_issue(ExplainIssueRequest {
            issue_id: e.issue_id.clone(),
            expected_version: e.version,
            explanation: "属历史遗留，已按政策解释".into(),
            resident_acknowledged: true,
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert_eq!(
        (state_of(&e), e.resident_acknowledged, e.disposition),
        (IssueState::Explained, true, Disposition::Explained as i32)
    );

    let r = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    let r = admin
        .escalate_issue(EscalateIssueRequest {
            issue_id: r.issue_id.clone(),
            expected_version: r.version,
            department: "县水利局".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    let r = dept
        .return_issue(ReturnIssueRequest {
            issue_id: r.issue_id.clone(),
            expected_version: r.version,
            reason: "不属于本部门职责".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert_eq!(
        (state_of(&r), r.department.as_str()),
        (IssueState::Open, "")
    );

    let d = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    let d = admin
        .merge_issue(MergeIssueRequest {
            issue_id: d.issue_id.clone(),
            expected_version: d.version,
            into_issue_id: r.issue_id.clone(),
            note: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert_eq!(
        (state_of(&d), d.merged_into.as_str()),
        (IssueState::Duplicate, r.issue_id.as_str())
    );
    let (_, target_timeline) = issue(&mut admin, &r.issue_id).await;
    assert!(
        target_timeline
            .iter()
            .any(|t| t.action == "merge_in" && t.related_issue_id == d.issue_id),
        "the surviving issue shows the merge"
    );

    // 督办: priority up, deadline only tighter.
    let s = admin
        .supervise_issue(SuperviseIssueRequest {
            issue_id: r.issue_id.clone(),
            expected_version: r.version,
            deadline_days: 2,
            note: "县督办".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert!(s.supervised);
    assert_eq!(s.priority, Priority::High as i32);
    assert!(s.deadline.unwrap().seconds <= chrono::Utc::now().timestamp() + 2 * 86400 + 5);

    // Every transition wrote an event.
    let events = stack
        .count(
            "SELECT count(*) FROM outbox WHERE subject = 'issues/' || $1",
            &id,
        )
        .await;
    assert_eq!(events, timeline.len() as i64);
    stack.stop().await;
}

#[tokio::test]
async fn concurrent_resolves_one_wins_the_other_is_aborted() {
    let stack = TestLedger::start(3600).await;
    let mut admin = stack
        .issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let cadre = stack.cadre("周飞好", fixtures::COUNTY).await;
    let i = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    let i = assigned(&mut admin, i, &cadre).await;
    let mut tasks = Vec::new();
    for n in 0..2 {
        let mut c = admin.clone();
        let req = ResolveIssueRequest {
            issue_id: i.issue_id.clone(),
            expected_version: i.version,
            resolution: format!("办法{n}"),
        };
        tasks.push(tokio::spawn(async move {
            c.resolve_issue(req).await.map(|_| ())
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "one wins");
    let lost = results
        .into_iter()
        .find_map(Result::err)
        .expect("one loses");
    assert_eq!(lost.code(), Code::Aborted, "{lost:?}");
    let resolves = stack
        .count(
            "SELECT count(*) FROM issue_timeline WHERE issue_id = $1::uuid AND action = 'resolve'",
            &i.issue_id,
        )
        .await;
    assert_eq!(resolves, 1, "no lost or doubled write");
    stack.stop().await;
}

#[tokio::test]
async fn an_overdue_item_is_announced_once_across_sweeps_and_sweepers() {
    let stack = TestLedger::start(1).await; // its own sweeper runs every second
    let mut admin = stack
        .issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let late = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    let soon = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    sqlx::query("UPDATE issues SET deadline = now() - interval '1 hour' WHERE issue_id = $1::uuid")
        .bind(&late.issue_id)
        .execute(&stack.issues.pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE issues SET deadline = now() + interval '2 hours' WHERE issue_id = $1::uuid",
    )
    .bind(&soon.issue_id)
    .execute(&stack.issues.pool)
    .await
    .unwrap();

    // A second sweeper (another replica) and explicit sweeps, all at once.
    let second = TestService::start_issues_on(&stack.issues.database, &stack.queue, 1).await;
    let mut other = second
        .issues_client("admin-2", ADMIN, fixtures::COUNTY)
        .await;
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            admin.sweep_deadlines(SweepDeadlinesRequest {}),
            other.sweep_deadlines(SweepDeadlinesRequest {})
        );
        a.unwrap();
        b.unwrap();
    }
    // And after them, one sweep of each, one at a time: whatever a sweep
    // would announce again, these would have.
    admin
        .sweep_deadlines(SweepDeadlinesRequest {})
        .await
        .unwrap();
    other
        .sweep_deadlines(SweepDeadlinesRequest {})
        .await
        .unwrap();
    let overdue = stack.count("SELECT count(*) FROM outbox WHERE subject = 'issues/' || $1 AND routing_key = 'issues.issue.overdue'", &late.issue_id).await;
    let due_soon = stack.count("SELECT count(*) FROM outbox WHERE subject = 'issues/' || $1 AND routing_key = 'issues.issue.due_soon'", &soon.issue_id).await;
    assert_eq!((overdue, due_soon), (1, 1), "exactly one announcement each");
    let overdue_list = admin
        .list_issues(ListIssuesRequest {
            overdue_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues;
    assert!(overdue_list.iter().any(|i| i.issue_id == late.issue_id));
    assert!(!overdue_list.iter().any(|i| i.issue_id == soon.issue_id));
    second.stop().await;
    stack.stop().await;
}
