//! The issue ledger end to end: visits become entries exactly once, an item
//! lives through every state, concurrent edits are safe, deadlines announce
//! themselves once, and callback outcomes verify or reopen.
use std::time::Duration;

use lapin::options::BasicPublishOptions;
use prost::Message;
use tonic::Code;
use uuid::Uuid;
use zoufang_e2e::{
    Issues, TestService, delete_consumer_queues, eventually, fixtures, tap::Tap, unique_name,
};
use zoufang_proto::{
    common::v1::{ItemKind, RaisedItem},
    events::v1::{CallbackCompleted, Satisfaction, VisitRecorded},
    issues::v1::*,
};
use zoufang_runtime::{bus, consumer::default_retry_delays};

const ADMIN: &[&str] = &["county_admin"];

/// A registry and a ledger on one database (separate schemas), the ledger
/// with its own queue.
struct Stack {
    registry: TestService,
    issues: TestService,
    queue: String,
}

impl Stack {
    async fn start(sweep_secs: u64) -> Self {
        let database = unique_name("zft");
        let registry = TestService::spawn_on(&database).await;
        let queue = unique_name("zft");
        let issues = TestService::spawn_issues_on(&database, &queue, sweep_secs).await;
        // The ledger declares its queue when it connects; wait for that.
        let q = queue.clone();
        eventually(Duration::from_secs(10), || {
            let q = q.clone();
            async move {
                let conn = bus::connect(&zoufang_e2e::amqp_url(), "probe").await.ok()?;
                let ch = conn.create_channel().await.ok()?;
                let declared = ch
                    .queue_declare(
                        format!("{q}.events").into(),
                        lapin::options::QueueDeclareOptions {
                            passive: true,
                            ..Default::default()
                        },
                        Default::default(),
                    )
                    .await
                    .is_ok();
                declared.then_some(())
            }
        })
        .await
        .expect("the ledger's queue exists");
        Self {
            registry,
            issues,
            queue,
        }
    }

    async fn stop(self) {
        self.issues.stop().await;
        self.registry.stop().await;
        delete_consumer_queues(&self.queue, &default_retry_delays()).await;
    }

    async fn count(&self, sql: &'static str, id: &str) -> i64 {
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&self.issues.pool)
            .await
            .expect("count")
    }
}

async fn issue(c: &mut Issues, id: &str) -> (Issue, Vec<TimelineEntry>) {
    let r = c
        .get_issue(GetIssueRequest {
            issue_id: id.into(),
        })
        .await
        .expect("get issue")
        .into_inner();
    (r.issue.unwrap(), r.timeline)
}

fn state_of(i: &Issue) -> IssueState {
    IssueState::try_from(i.state).unwrap()
}

#[tokio::test]
async fn a_visit_with_three_items_becomes_three_entries_exactly_once() {
    let stack = Stack::start(3600).await;
    let mut tap = Tap::bind("registry.visit.recorded").await;
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
    let conn = bus::connect(&zoufang_e2e::amqp_url(), "redeliver")
        .await
        .unwrap();
    let ch = bus::confirm_channel(&conn).await.unwrap();
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
    tokio::time::sleep(Duration::from_secs(2)).await;
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

async fn reception_issue(c: &mut Issues, kind: ItemKind, concerned: Vec<String>) -> Issue {
    c.create_issue(CreateIssueRequest {
        issue_id: Uuid::new_v4().to_string(),
        source: IssueSource::Reception as i32,
        region_code: fixtures::VILLAGES[0].into(),
        kind: kind as i32,
        category: "民生工程".into(),
        description: "村里自来水时断时续".into(),
        households_involved: if kind == ItemKind::Dispute { 3 } else { 0 },
        concerned_cadre_ids: concerned,
        ..Default::default()
    })
    .await
    .expect("create issue")
    .into_inner()
    .issue
    .unwrap()
}

/// Assigns an issue to a cadre, returning it.
async fn assigned(c: &mut Issues, i: Issue) -> Issue {
    c.assign_issue(AssignIssueRequest {
        issue_id: i.issue_id.clone(),
        expected_version: i.version,
        cadre_id: Uuid::new_v4().to_string(),
        deadline_days: 7,
        note: String::new(),
    })
    .await
    .expect("assign")
    .into_inner()
    .issue
    .unwrap()
}

#[tokio::test]
async fn an_item_lives_through_every_state() {
    let stack = Stack::start(3600).await;
    let mut admin = stack
        .issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let cadre = Uuid::new_v4().to_string();
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
    let stack = Stack::start(3600).await;
    let mut admin = stack
        .issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let i = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    let i = assigned(&mut admin, i).await;
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
    let stack = Stack::start(1).await; // its own sweeper runs every second
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
    let second = TestService::spawn_issues_on(&stack.issues.database, &stack.queue, 1).await;
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
    tokio::time::sleep(Duration::from_millis(1500)).await;
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

#[tokio::test]
async fn callbacks_verify_or_reopen_and_loops_escalate() {
    let stack = Stack::start(3600).await;
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
            let env = bus::Envelope {
                id: Uuid::now_v7(),
                source: "/zoufang/supervision".into(),
                routing_key: "supervision.callback.completed".into(),
                subject: "callbacks/x".into(),
                time: chrono::Utc::now(),
                county: fixtures::COUNTY.into(),
                trace: Default::default(),
                attempt: 0,
            };
            let conn = bus::connect(&zoufang_e2e::amqp_url(), "test-supervision")
                .await
                .unwrap();
            let ch = bus::confirm_channel(&conn).await.unwrap();
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

    let i = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    let i = assigned(&mut admin, i).await;
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
    let j = assigned(&mut admin, j).await;
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
    let stack = Stack::start(3600).await;
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
    let d = assigned(&mut admin, d).await;
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
        Code::PermissionDenied
    );
    stack.stop().await;
}
