//! The petition bridge end to end: the reference fake petition system sends
//! cases to the webhook (and over AMQP, and in a batch file) and receives
//! the answers; a registry matches petitioners to households; the ledger
//! turns cases into items and keeps their statutory deadlines.
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use lapin::options::BasicPublishOptions;
use uuid::Uuid;
use zoufang_core::clock::Clock;
use zoufang_e2e::{
    FakePetitionSystem, TestPetition, TestService, eventually,
    petition::{self, COUNTY, VILLAGES},
    quiet,
    tap::Tap,
    unique_name, wait_for_queue,
};
use zoufang_proto::catalogue;
use zoufang_proto::{
    common::v1::ItemKind,
    events::v1::IssueChanged,
    issues::v1::{
        AssignIssueRequest, GetIssueRequest, IssueSource, IssueState, ListIssuesRequest,
        ResolveIssueRequest, SweepDeadlinesRequest,
    },
    petition::v1::{
        AcceptCaseRequest, CaseKind, ExtendCaseRequest, GetCaseRequest, ImportCasesRequest,
        ListCasesRequest, ListRepliesRequest, Outcome, ReplyCaseRequest, ReplyState,
        RequestReviewRequest, Stage,
    },
    registry::v1::{GetHouseholdRequest, ImportRegionsRequest, RegisterHouseholdRequest},
};

/// Registry, ledger and bridge on one database, the fake system registered.
struct World {
    registry: TestService,
    issues: TestService,
    bridge: TestPetition,
    fake: FakePetitionSystem,
    clock: Clock,
    queue: String,
}

impl World {
    async fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let database = unique_name("zft");
        let registry = TestService::start_on(&database).await;
        let queue = unique_name("zft");
        let issues = TestService::start_issues_on(&database, &queue, 3600).await;
        wait_for_queue(&queue).await;
        let mut admin = registry.client("admin", &["county_admin"], "").await;
        admin
            .import_regions(ImportRegionsRequest {
                csv: petition::region_csv().into_bytes(),
            })
            .await
            .expect("import regions");
        let clock = Clock::manual(Utc::now());
        let bridge = TestPetition::start(&database, clock.clone(), registry.grpc_port).await;
        let fake = FakePetitionSystem::register(&bridge).await;
        Self {
            registry,
            issues,
            bridge,
            fake,
            clock,
            queue,
        }
    }

    /// A household in the first village with this ID number.
    async fn household(&self, id_number: &str) -> String {
        let mut admin = self
            .registry
            .client("admin", &["county_admin"], COUNTY)
            .await;
        let id = Uuid::new_v4().to_string();
        admin
            .register_household(RegisterHouseholdRequest {
                household_id: id.clone(),
                village_code: VILLAGES[0].into(),
                group_name: "新屋组".into(),
                address: "12号".into(),
                head_name: "唐怀珠".into(),
                id_number: id_number.into(),
                phone: "13907341234".into(),
                member_count: 3,
                tags: vec![],
            })
            .await
            .expect("register household");
        id
    }

    async fn ledger_item(&self, issue_id: &str) -> Option<zoufang_proto::issues::v1::Issue> {
        let mut c = self
            .issues
            .issues_client("admin", &["county_admin"], COUNTY)
            .await;
        c.get_issue(GetIssueRequest {
            issue_id: issue_id.into(),
        })
        .await
        .ok()
        .and_then(|r| r.into_inner().issue)
    }

    /// Waits until the ledger item exists and `check` holds for it. The
    /// ledger retries a failed event after 1, 2, 4, 8 and 16 s, so a loaded
    /// machine may need most of a minute.
    async fn ledger_until(
        &self,
        issue_id: &str,
        what: &str,
        check: impl Fn(&zoufang_proto::issues::v1::Issue) -> bool,
    ) -> zoufang_proto::issues::v1::Issue {
        let last = std::sync::Mutex::new(None);
        eventually(Duration::from_secs(60), || async {
            let item = self.ledger_item(issue_id).await;
            *last.lock().unwrap() = item.clone();
            item.filter(|i| check(i))
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "ledger item {issue_id}: {what}; last seen: {:?}",
                last.lock().unwrap()
            )
        })
    }

    async fn stop(self) {
        self.bridge.stop().await;
        self.issues.stop().await;
        self.registry.stop().await;
        zoufang_e2e::delete_consumer_queues(
            &self.queue,
            &zoufang_bus::consumer::default_retry_delays(),
        )
        .await;
    }
}

async fn count(pool: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

/// Cases, log lines, events, answers and remembered signatures: everything
/// a request could write.
async fn written(pool: &sqlx::PgPool) -> [i64; 5] {
    [
        count(pool, "SELECT count(*) FROM petition.cases").await,
        count(pool, "SELECT count(*) FROM petition.case_log").await,
        count(pool, "SELECT count(*) FROM petition.outbox").await,
        count(pool, "SELECT count(*) FROM petition.replies").await,
        count(pool, "SELECT count(*) FROM petition.seen_signatures").await,
    ]
}

fn secs(t: &Option<prost_types::Timestamp>) -> i64 {
    t.as_ref().map(|t| t.seconds).unwrap_or_default()
}

#[tokio::test]
async fn a_posted_case_becomes_one_ledger_item_on_its_household_and_a_repeat_stays_one() {
    let w = World::start().await;
    let id_number = petition::id_number(7);
    let household = w.household(&id_number).await;
    let external = unique_name("XF-");
    let received = Utc::now() - Days::hours(2);

    let first = w
        .fake
        .send(&w.fake.case(&external, 1, &id_number, received))
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["result"], "created");
    let issue_id = first.body["issue_id"]
        .as_str()
        .expect("issue id")
        .to_owned();
    let case_id = first.body["case_id"].as_str().expect("case id").to_owned();

    // One ledger item: a petition, on the household, due 15 days after receipt.
    let item = w
        .ledger_until(&issue_id, "created from the case", |_| true)
        .await;
    assert_eq!(item.kind, ItemKind::Petition as i32);
    assert_eq!(item.source, IssueSource::Petition as i32);
    assert_eq!(item.household_id, household);
    assert_eq!(item.region_code, VILLAGES[0]);
    assert_eq!(
        secs(&item.deadline),
        (received + Days::days(15)).timestamp()
    );
    assert!(
        !item.description.contains(&id_number),
        "no ID number in the ledger"
    );

    // The household is tagged 重点信访.
    let mut reg = w.registry.client("admin", &["county_admin"], COUNTY).await;
    let h = reg
        .get_household(GetHouseholdRequest {
            household_id: household.clone(),
            ..Default::default()
        })
        .await
        .expect("household")
        .into_inner()
        .household
        .expect("household");
    assert!(h.tags.iter().any(|t| t == "重点信访"), "tags: {:?}", h.tags);

    // The same case again (a fresh signature: the source retried) changes nothing.
    let before = written(&w.bridge.service.pool).await;
    // A retry in a later second carries a new signature (within the same
    // second it would be byte-identical, hence refused as a replay: 409).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = w
        .fake
        .send(&w.fake.case(&external, 1, &id_number, received))
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["result"], "unchanged");
    assert_eq!(again.body["case_id"], case_id.as_str());
    let after = written(&w.bridge.service.pool).await;
    assert_eq!(
        after[..4],
        before[..4],
        "a repeat writes no case, log, event or answer"
    );

    // A later update is applied; an older one arriving late is not.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let update = w
        .fake
        .send(&w.fake.case(&external, 3, &id_number, received))
        .await;
    assert_eq!(update.body["result"], "updated", "{:?}", update.body);
    let stale = w
        .fake
        .send(&w.fake.case(&external, 2, &id_number, received))
        .await;
    assert_eq!(stale.body["result"], "unchanged", "{:?}", stale.body);
    let mut cadre = w.bridge.client("cadre-1", &["cadre"], "430482100").await;
    let case = cadre
        .get_case(GetCaseRequest {
            case_id: case_id.clone(),
        })
        .await
        .expect("get case")
        .into_inner();
    let c = case.case.expect("case");
    assert_eq!(c.sequence, 3);
    assert!(c.content.contains("第3版"), "{}", c.content);
    // Personal data is masked on the way out and encrypted at rest.
    assert_eq!(c.petitioner_name, "唐**");
    assert!(c.id_number_masked.contains('*') && !c.id_number_masked.contains(&id_number[6..14]));
    assert_eq!(c.phone_masked, "139****5678");
    let raw: Vec<u8> =
        sqlx::query_scalar("SELECT phone_enc FROM petition.cases WHERE case_id = $1::uuid")
            .bind(&case_id)
            .fetch_one(&w.bridge.service.pool)
            .await
            .expect("row");
    assert!(!String::from_utf8_lossy(&raw).contains("13912345678"));
    let plain_id: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM petition.cases WHERE id_masked = $1 OR content LIKE '%' || $1 || '%'",
    )
    .bind(&id_number)
    .fetch_one(&w.bridge.service.pool)
    .await
    .expect("count");
    assert_eq!(plain_id, 0, "the ID number is never stored in plain text");

    // A cadre visiting the household sees its open petition items.
    let open = cadre
        .list_cases(ListCasesRequest {
            household_id: household.clone(),
            open_only: true,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(open.cases.len(), 1);
    assert_eq!(open.cases[0].case_id, case_id);

    // Still exactly one ledger item for the petition in this county.
    let mut ledger = w
        .issues
        .issues_client("admin", &["county_admin"], COUNTY)
        .await;
    let items = ledger
        .list_issues(ListIssuesRequest {
            region_code: COUNTY.into(),
            source: IssueSource::Petition as i32,
            ..Default::default()
        })
        .await
        .expect("list issues")
        .into_inner();
    let ours: Vec<_> = items
        .issues
        .iter()
        .filter(|i| i.issue_id == issue_id)
        .collect();
    assert_eq!(ours.len(), 1);
    w.stop().await;
}

#[tokio::test]
async fn unsigned_forged_stale_and_replayed_requests_are_refused_and_write_nothing() {
    let w = World::start().await;
    let case = w
        .fake
        .case(&unique_name("XF-"), 1, &petition::id_number(8), Utc::now());
    let body = serde_json::to_vec(&case).expect("json");
    let before = written(&w.bridge.service.pool).await;

    let unsigned = w
        .fake
        .post_raw(&body, &[("x-zoufang-source".into(), w.fake.name.clone())])
        .await;
    assert_eq!(unsigned.status, 401, "{:?}", unsigned.body);

    let mut forged = w.fake.signed_headers(&body, Utc::now().timestamp());
    forged[2].1 = zoufang_bus::signing::sign(b"not-the-secret", Utc::now().timestamp(), &body);
    assert_eq!(w.fake.post_raw(&body, &forged).await.status, 401);

    let stale = w.fake.signed_headers(&body, Utc::now().timestamp() - 3600);
    let answer = w.fake.post_raw(&body, &stale).await;
    assert_eq!(answer.status, 401);
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("older or newer")
    );

    let mut unknown = w.fake.signed_headers(&body, Utc::now().timestamp());
    unknown[0].1 = "no-such-system".into();
    assert_eq!(w.fake.post_raw(&body, &unknown).await.status, 401);

    // A signed body that is not a valid case: every bad field is named.
    let mut bad = case.clone();
    bad["channel"] = "传真".into();
    bad["region_code"] = "4304".into();
    bad["petitioner"]["id_number"] = "430482199001011235".into();
    let bad_body = serde_json::to_vec(&bad).expect("json");
    let refused = w
        .fake
        .post_raw(
            &bad_body,
            &w.fake.signed_headers(&bad_body, Utc::now().timestamp()),
        )
        .await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    let fields: Vec<&str> = refused.body["field_errors"]
        .as_array()
        .expect("field errors")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    for f in ["channel", "region_code", "petitioner.id_number"] {
        assert!(fields.contains(&f), "{f} not named in {fields:?}");
    }
    assert_eq!(
        written(&w.bridge.service.pool).await,
        before,
        "refusals write nothing"
    );

    // The genuine request is taken; the very same request again is a replay.
    let headers = w.fake.signed_headers(&body, Utc::now().timestamp());
    assert_eq!(w.fake.post_raw(&body, &headers).await.status, 201);
    let after_first = written(&w.bridge.service.pool).await;
    let replay = w.fake.post_raw(&body, &headers).await;
    assert_eq!(replay.status, 409, "{:?}", replay.body);
    assert_eq!(
        written(&w.bridge.service.pool).await,
        after_first,
        "a replay writes nothing"
    );
    w.stop().await;
}

/// The ledger's due-soon or overdue events for `issue_id`, after a sweep.
async fn sweep_and_see(w: &World, tap: &mut Tap, issue_id: &str) -> Vec<String> {
    let mut ledger = w.issues.issues_client("svc", &["service"], "").await;
    ledger
        .sweep_deadlines(SweepDeadlinesRequest {})
        .await
        .expect("sweep");
    // The sweep has returned: once the ledger's outbox is published, the
    // tap holds all it announced. Only deadline crossings matter here.
    quiet::outbox_drained(&w.issues.pool, "issues").await;
    tap.drain(|s| {
        let key = s.envelope.routing_key.as_str();
        (key.ends_with(".due_soon") || key.ends_with(".overdue"))
            && <IssueChanged as prost::Message>::decode(s.payload.as_slice())
                .is_ok_and(|c| c.issue_id == issue_id)
    })
    .await
    .into_iter()
    .map(|s| s.envelope.routing_key)
    .collect()
}

#[tokio::test]
async fn the_15_60_30_day_clock_feeds_the_ledgers_due_soon_and_overdue() {
    let w = World::start().await;
    let mut tap = Tap::bind("issues.issue.*").await;
    let now = Utc::now();
    let mut bureau = w
        .bridge
        .client("bureau", &["petition_bureau"], COUNTY)
        .await;

    // Received 14½ days ago: acceptance is due within the day.
    let a = w
        .fake
        .send(&w.fake.case(
            &unique_name("XF-"),
            1,
            &petition::id_number(1),
            now - Days::hours(14 * 24 + 12),
        ))
        .await;
    let a_issue = a.body["issue_id"].as_str().expect("issue").to_owned();
    w.ledger_until(&a_issue, "exists", |_| true).await;
    assert_eq!(
        sweep_and_see(&w, &mut tap, &a_issue).await,
        [catalogue::issues::DUE_SOON]
    );

    // Received 16 days ago and never accepted: overdue.
    let b = w
        .fake
        .send(&w.fake.case(
            &unique_name("XF-"),
            1,
            &petition::id_number(2),
            now - Days::days(16),
        ))
        .await;
    let b_issue = b.body["issue_id"].as_str().expect("issue").to_owned();
    w.ledger_until(&b_issue, "exists", |_| true).await;
    assert_eq!(
        sweep_and_see(&w, &mut tap, &b_issue).await,
        [catalogue::issues::OVERDUE]
    );

    // Accepted 59½ days ago (the bridge's clock set back): handling is due
    // within the day, and the ledger's deadline follows.
    let c = w
        .fake
        .send(&w.fake.case(
            &unique_name("XF-"),
            1,
            &petition::id_number(3),
            now - Days::days(70),
        ))
        .await;
    let c_case = c.body["case_id"].as_str().expect("case").to_owned();
    let c_issue = c.body["issue_id"].as_str().expect("issue").to_owned();
    w.ledger_until(&c_issue, "exists", |_| true).await;
    // What the tap holds so far is of no interest.
    quiet::outbox_drained(&w.issues.pool, "issues").await;
    tap.drain(|_| false).await;
    w.clock.set(now - Days::hours(59 * 24 + 12));
    let accepted = bureau
        .accept_case(AcceptCaseRequest {
            case_id: c_case.clone(),
            expected_version: 1,
            note: "依法受理".into(),
            new_facts: false,
        })
        .await
        .expect("accept")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(accepted.stage, Stage::Handling as i32);
    let due = secs(&accepted.due_at);
    assert_eq!(due, (now + Days::hours(12)).timestamp());
    w.ledger_until(&c_issue, "deadline moved to the handling deadline", |i| {
        secs(&i.deadline) == due
    })
    .await;
    let seen = sweep_and_see(&w, &mut tap, &c_issue).await;
    assert!(
        seen.contains(&catalogue::issues::DUE_SOON.to_owned()),
        "{seen:?}"
    );

    // Extended by 30 days with a reason: the deadline moves, nothing fires.
    let extended = bureau
        .extend_case(ExtendCaseRequest {
            case_id: c_case.clone(),
            expected_version: accepted.version,
            days: 30,
            reason: "需多部门会商".into(),
        })
        .await
        .expect("extend")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(secs(&extended.due_at), due + 30 * 86_400);
    w.ledger_until(&c_issue, "deadline extended by 30 days", |i| {
        secs(&i.deadline) == due + 30 * 86_400
    })
    .await;
    assert!(sweep_and_see(&w, &mut tap, &c_issue).await.is_empty());
    // Only once.
    let twice = bureau
        .extend_case(ExtendCaseRequest {
            case_id: c_case.clone(),
            expected_version: 0,
            days: 5,
            reason: "再延".into(),
        })
        .await
        .expect_err("a second extension");
    assert_eq!(twice.code(), tonic::Code::FailedPrecondition);

    // Replied 29½ days ago; a review asked for now is in time, and its
    // decision is due in 30 days. One asked for after 30 days is refused.
    w.clock.set(now - Days::hours(29 * 24 + 12));
    let replied = bureau
        .reply_case(ReplyCaseRequest {
            case_id: c_case.clone(),
            expected_version: 0,
            outcome: Outcome::NotSupported as i32,
            text: "经核查，诉求缺乏政策依据".into(),
        })
        .await
        .expect("reply")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(replied.stage, Stage::Replied as i32);
    w.ledger_until(&c_issue, "closed by the reply", |i| {
        i.state == IssueState::Explained as i32
    })
    .await;
    w.clock.set(now);
    let review = bureau
        .request_review(RequestReviewRequest {
            case_id: c_case.clone(),
            expected_version: 0,
            note: "信访人申请复查".into(),
        })
        .await
        .expect("review in time")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(review.stage, Stage::UnderReview as i32);
    assert_eq!(secs(&review.due_at), (now + Days::days(30)).timestamp());
    w.ledger_until(&c_issue, "reopened for the review", |i| {
        i.state == IssueState::Reopened as i32 && secs(&i.deadline) == secs(&review.due_at)
    })
    .await;

    // A's reply, and a review asked for 31 days later: the window is closed.
    w.clock.set(now - Days::days(31));
    let a_case = a.body["case_id"].as_str().expect("case").to_owned();
    for step in 0..2 {
        if step == 0 {
            bureau
                .accept_case(AcceptCaseRequest {
                    case_id: a_case.clone(),
                    expected_version: 0,
                    note: String::new(),
                    new_facts: false,
                })
                .await
                .expect("accept a");
        } else {
            bureau
                .reply_case(ReplyCaseRequest {
                    case_id: a_case.clone(),
                    expected_version: 0,
                    outcome: Outcome::Explained as i32,
                    text: "已解释政策".into(),
                })
                .await
                .expect("reply a");
        }
    }
    w.clock.set(now);
    let late = bureau
        .request_review(RequestReviewRequest {
            case_id: a_case,
            expected_version: 0,
            note: String::new(),
        })
        .await
        .expect_err("review after 30 days");
    assert_eq!(late.code(), tonic::Code::FailedPrecondition, "{late:?}");
    w.stop().await;
}

#[tokio::test]
async fn a_resolution_reaches_the_source_exactly_once_even_when_it_is_down_for_a_while() {
    let w = World::start().await;
    let external = unique_name("XF-");
    let sent = w
        .fake
        .send(
            &w.fake
                .case(&external, 1, &petition::id_number(4), Utc::now()),
        )
        .await;
    let (case_id, issue_id) = (
        sent.body["case_id"].as_str().expect("case").to_owned(),
        sent.body["issue_id"].as_str().expect("issue").to_owned(),
    );
    let item = w.ledger_until(&issue_id, "exists", |_| true).await;

    // The source system goes down: its next four answers fail.
    w.fake.answers.fail_next_matching(4, 503, &external);
    let mut ledger = w
        .issues
        .issues_client("cadre-9", &["county_admin"], COUNTY)
        .await;
    // A county cadre, registered first: the ledger assigns only cadres its
    // directory knows (from the registry's cadre events).
    let cadre = uuid::Uuid::new_v4().to_string();
    let mut registry = w.registry.client("admin", &["county_admin"], "").await;
    zoufang_e2e::ledger::register_cadre(&mut registry, &cadre, "陈志刚", COUNTY).await;
    zoufang_e2e::ledger::await_cadre(&w.issues.pool, &cadre).await;
    let item = ledger
        .assign_issue(AssignIssueRequest {
            issue_id: issue_id.clone(),
            expected_version: item.version,
            cadre_id: cadre.clone(),
            deadline_days: 0,
            note: String::new(),
        })
        .await
        .expect("assign")
        .into_inner()
        .issue
        .expect("issue");
    ledger
        .resolve_issue(ResolveIssueRequest {
            issue_id: issue_id.clone(),
            expected_version: item.version,
            resolution: "已协调划定宅基地界址，双方签字认可".into(),
        })
        .await
        .expect("resolve");

    // The case is accepted and answered 支持 by the ledger's resolution; both
    // answers get through once the source is back.
    let replies = w
        .fake
        .answers
        .wait_for_matching(6, Duration::from_secs(30), &external)
        .await;
    let mut bureau = w
        .bridge
        .client("bureau", &["petition_bureau"], COUNTY)
        .await;
    let states = eventually(Duration::from_secs(20), || {
        let mut bureau = bureau.clone();
        let case_id = case_id.clone();
        async move {
            let r = bureau
                .list_replies(ListRepliesRequest { case_id })
                .await
                .ok()?
                .into_inner()
                .replies;
            (r.len() == 2 && r.iter().all(|r| r.state == ReplyState::Sent as i32)).then_some(r)
        }
    })
    .await
    .unwrap_or_else(|| panic!("answers not all sent; requests: {}", replies.len()));
    assert_eq!(
        states.iter().map(|r| r.attempts).sum::<i32>(),
        6,
        "4 failures + 2 successes"
    );
    // Sent is final, and nothing else waits to go out: no further request
    // can come.
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM petition.replies WHERE state IN ('pending', 'sending')",
    )
    .fetch_one(&w.bridge.service.pool)
    .await
    .expect("replies");
    assert_eq!(waiting, 0, "no answer waits to be sent");

    let answered = w.fake.answers_for(&external, "replied");
    let delivery_ids: std::collections::HashSet<_> = answered
        .iter()
        .map(|r| {
            r.header("x-zoufang-delivery")
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        delivery_ids.len(),
        1,
        "one answer, retried under one delivery id"
    );
    let all = w.fake.answers.requests_matching(&external);
    assert_eq!(
        all.len(),
        6,
        "4 refused while down, then each answer exactly once"
    );
    let last = answered.last().expect("reply").json();
    assert_eq!(last["outcome"], "支持");
    assert!(last["text"].as_str().unwrap_or("").contains("宅基地界址"));
    assert!(
        answered.iter().all(|r| w.fake.verify(r)),
        "answers are signed"
    );

    let case = bureau
        .get_case(GetCaseRequest { case_id })
        .await
        .expect("case")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(case.stage, Stage::Replied as i32);
    assert_eq!(case.outcome, Outcome::Supported as i32);
    w.stop().await;
}

#[tokio::test]
async fn cases_arrive_over_amqp_and_in_batch_files_and_bad_ones_are_parked_or_reported() {
    let w = World::start().await;
    let conn = zoufang_bus::connect(&zoufang_e2e::amqp_url(), "test-source")
        .await
        .expect("amqp");
    let ch = zoufang_bus::confirm_channel(&conn).await.expect("channel");
    // The bridge declares its exchange on connecting; wait for it.
    eventually(Duration::from_secs(15), || async {
        let probe = conn.create_channel().await.ok()?;
        probe
            .exchange_declare(
                w.bridge.config.inbound_exchange.clone().into(),
                lapin::ExchangeKind::Topic,
                lapin::options::ExchangeDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .ok()
    })
    .await
    .expect("the inbound exchange is declared");
    // Each message is signed like a webhook request (AMQP headers).
    let publish = |body: Vec<u8>| {
        let ch = ch.clone();
        let exchange = w.bridge.config.inbound_exchange.clone();
        let props = w.fake.signed_properties(&body, Utc::now().timestamp());
        async move {
            ch.basic_publish(
                exchange.into(),
                "county.xinfang".into(),
                BasicPublishOptions::default(),
                &body,
                props,
            )
            .await
            .expect("publish")
            .await
            .expect("confirm");
        }
    };
    let external = unique_name("HL-");
    let mut order = w
        .fake
        .case(&external, 1, &petition::id_number(5), Utc::now());
    order["kind"] = "hotline".into();
    order["channel"] = "电话".into();
    publish(serde_json::to_vec(&order).expect("json")).await;
    publish(b"{not json".to_vec()).await;

    let mut bureau = w
        .bridge
        .client("bureau", &["petition_bureau"], COUNTY)
        .await;
    let found = eventually(Duration::from_secs(15), || {
        let mut bureau = bureau.clone();
        async move {
            let cases = bureau
                .list_cases(ListCasesRequest {
                    kind: CaseKind::Hotline as i32,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner()
                .cases;
            cases.into_iter().find(|c| c.external_id.starts_with("HL-"))
        }
    })
    .await
    .expect("the hotline order arrived over AMQP");
    assert_eq!(found.kind, CaseKind::Hotline as i32);
    w.ledger_until(&found.issue_id, "a hotline item", |i| {
        i.source == IssueSource::Hotline as i32
    })
    .await;
    // The bad message is parked, not lost and not blocking.
    let parked = eventually(Duration::from_secs(15), || async {
        let q = ch
            .queue_declare(
                format!("{}.parking", w.bridge.config.inbound_queue).into(),
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .ok()?;
        (q.message_count() == 1).then_some(())
    })
    .await;
    assert!(
        parked.is_some(),
        "the undecodable message is in the parking queue"
    );
    let _ = conn.close(200, "done".into()).await;

    // A batch file: two good rows, one bad row reported with its column.
    let received = (Utc::now() - Days::days(1))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("tz"));
    let csv = format!(
        "外部编号,渠道,信访人,身份证号码,联系电话,区划代码,反映内容,收到时间\n\
         {b}-1,来信,李某,{id1},13900001111,{v},反映道路破损,{t}\n\
         {b}-2,来访,王某,,,{v},反映低保评定不公,{t}\n\
         {b}-3,传真,赵某,,,{v},反映噪音,{t}\n",
        b = unique_name("BAT-"),
        id1 = petition::id_number(6),
        v = VILLAGES[1],
        t = received.format("%Y-%m-%d %H:%M"),
    );
    let report = bureau
        .import_cases(ImportCasesRequest {
            source_system: w.fake.name.clone(),
            file_name: "cases.csv".into(),
            content: csv.clone().into_bytes(),
        })
        .await
        .expect("import")
        .into_inner();
    assert_eq!((report.rows, report.created), (3, 2), "{report:?}");
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert_eq!(report.errors[0].row, 4);
    assert_eq!(report.errors[0].column, "渠道");
    // The same file again changes nothing.
    let again = bureau
        .import_cases(ImportCasesRequest {
            source_system: w.fake.name.clone(),
            file_name: "cases.csv".into(),
            content: csv.into_bytes(),
        })
        .await
        .expect("import again")
        .into_inner();
    assert_eq!((again.created, again.unchanged), (0, 2), "{again:?}");
    w.stop().await;
}

#[tokio::test]
async fn hotline_orders_are_returned_reassigned_and_merged_and_the_source_hears_each_step() {
    let w = World::start().await;
    let hotline = |external: &str, serial: u32| {
        let mut order = w
            .fake
            .case(external, 1, &petition::id_number(serial), Utc::now());
        order["kind"] = "hotline".into();
        order["channel"] = "电话".into();
        order
    };
    let (first_ext, repeat_ext) = (unique_name("HL-"), unique_name("HL-"));
    let first = w.fake.send(&hotline(&first_ext, 11)).await;
    let repeat = w.fake.send(&hotline(&repeat_ext, 12)).await;
    let (first_case, first_issue) = (
        first.body["case_id"].as_str().expect("case").to_owned(),
        first.body["issue_id"].as_str().expect("issue").to_owned(),
    );
    let (repeat_case, repeat_issue) = (
        repeat.body["case_id"].as_str().expect("case").to_owned(),
        repeat.body["issue_id"].as_str().expect("issue").to_owned(),
    );
    w.ledger_until(&first_issue, "a hotline item", |i| {
        i.source == IssueSource::Hotline as i32
    })
    .await;
    w.ledger_until(&repeat_issue, "a hotline item", |_| true)
        .await;
    let mut bureau = w
        .bridge
        .client("bureau", &["petition_bureau"], COUNTY)
        .await;

    // 退单: not ours to handle; the item closes in the ledger.
    let returned = bureau
        .return_order(zoufang_proto::petition::v1::ReturnOrderRequest {
            case_id: first_case.clone(),
            expected_version: 1,
            reason: "不属于本镇职责，请重新派单".into(),
        })
        .await
        .expect("return")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(returned.stage, Stage::Returned as i32);
    w.ledger_until(&first_issue, "explained by the return", |i| {
        i.state == IssueState::Explained as i32 && i.explanation.contains("退单")
    })
    .await;

    // 改派: to the right handler, whose 15 days start now; the item reopens.
    let reassigned = bureau
        .reassign_order(zoufang_proto::petition::v1::ReassignOrderRequest {
            case_id: first_case.clone(),
            expected_version: returned.version,
            assignee: "县自然资源局".into(),
            note: "改派县自然资源局".into(),
        })
        .await
        .expect("reassign")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(reassigned.stage, Stage::Received as i32);
    assert_eq!(reassigned.assignee, "县自然资源局");
    w.ledger_until(&first_issue, "reopened on the new deadline", |i| {
        i.state == IssueState::Reopened as i32 && secs(&i.deadline) == secs(&reassigned.due_at)
    })
    .await;

    // 并单: the repeat order is merged into the first; its item is a duplicate.
    let merged = bureau
        .merge_orders(zoufang_proto::petition::v1::MergeOrdersRequest {
            case_id: repeat_case.clone(),
            expected_version: 0,
            into_case_id: first_case.clone(),
            note: "同一诉求重复来电".into(),
        })
        .await
        .expect("merge")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(merged.stage, Stage::Merged as i32);
    assert_eq!(merged.merged_into_case_id, first_case);
    w.ledger_until(&repeat_issue, "a duplicate of the first", |i| {
        i.state == IssueState::Duplicate as i32 && i.merged_into == first_issue
    })
    .await;
    // A petition (not a hotline order) cannot be returned; the bad merge
    // target is named.
    let bad = bureau
        .merge_orders(zoufang_proto::petition::v1::MergeOrdersRequest {
            case_id: first_case.clone(),
            expected_version: 0,
            into_case_id: Uuid::new_v4().to_string(),
            note: String::new(),
        })
        .await
        .expect_err("merge into nothing");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(bad.message().contains("into_case_id"), "{}", bad.message());

    // The source heard each step once, signed.
    for (ext, change) in [
        (&first_ext, "returned"),
        (&first_ext, "reassigned"),
        (&repeat_ext, "merged"),
    ] {
        w.fake
            .answers
            .wait_for_matching(1, Duration::from_secs(15), ext)
            .await;
        let got = eventually(Duration::from_secs(15), || async {
            let a = w.fake.answers_for(ext, change);
            (!a.is_empty()).then_some(a)
        })
        .await
        .unwrap_or_else(|| panic!("no {change} answer for {ext}"));
        assert_eq!(got.len(), 1, "{change} answered once");
        assert!(w.fake.verify(&got[0]));
    }
    w.stop().await;
}

#[tokio::test]
async fn an_unappealed_reply_becomes_final_and_the_same_claim_is_not_accepted_again() {
    let w = World::start().await;
    let id_number = petition::id_number(21);
    w.household(&id_number).await;
    let now = Utc::now();
    let external = unique_name("XF-");
    let sent = w
        .fake
        .send(&w.fake.case(&external, 1, &id_number, now - Days::days(80)))
        .await;
    let case_id = sent.body["case_id"].as_str().expect("case").to_owned();
    w.ledger_until(
        sent.body["issue_id"].as_str().expect("issue"),
        "exists",
        |_| true,
    )
    .await;
    let mut bureau = w
        .bridge
        .client("bureau", &["petition_bureau"], COUNTY)
        .await;

    // Accepted 75 days ago, answered 31 days ago, never appealed.
    w.clock.set(now - Days::days(75));
    bureau
        .accept_case(AcceptCaseRequest {
            case_id: case_id.clone(),
            expected_version: 0,
            note: String::new(),
            new_facts: false,
        })
        .await
        .expect("accept");
    w.clock.set(now - Days::days(31));
    bureau
        .reply_case(ReplyCaseRequest {
            case_id: case_id.clone(),
            expected_version: 0,
            outcome: Outcome::NotSupported as i32,
            text: "诉求不符合政策规定".into(),
        })
        .await
        .expect("reply");
    w.clock.set(now);
    let settled = zoufang_petition::ops::settle::settle_once(&w.bridge.state)
        .await
        .expect("settle");
    assert!(settled >= 1);
    let case = bureau
        .get_case(GetCaseRequest {
            case_id: case_id.clone(),
        })
        .await
        .expect("case")
        .into_inner();
    let c = case.case.expect("case");
    assert_eq!(c.stage, Stage::Final as i32);
    assert_eq!(c.outcome, Outcome::NotSupported as i32);
    assert_eq!(
        case.log.last().map(|l| l.change.as_str()),
        Some("finalized")
    );
    // Settling again changes nothing.
    zoufang_petition::ops::settle::settle_once(&w.bridge.state)
        .await
        .expect("settle again");
    let again = bureau
        .get_case(GetCaseRequest {
            case_id: case_id.clone(),
        })
        .await
        .expect("case")
        .into_inner();
    assert_eq!(again.case.expect("case").version, c.version);
    let late = bureau
        .request_review(RequestReviewRequest {
            case_id: case_id.clone(),
            expected_version: 0,
            note: String::new(),
        })
        .await
        .expect_err("final");
    assert_eq!(late.code(), tonic::Code::FailedPrecondition);
    let finalized = eventually(Duration::from_secs(15), || async {
        let a = w.fake.answers_for(&external, "finalized");
        (!a.is_empty()).then_some(a)
    })
    .await
    .expect("the source hears the case is final");
    assert_eq!(finalized[0].json()["stage_zh"], "已办结");

    // The same petitioner comes again: the case is taken in, flagged, and
    // cannot be accepted unless it rests on new facts and reasons.
    let repeat = w
        .fake
        .send(&w.fake.case(&unique_name("XF-"), 1, &id_number, now))
        .await;
    let repeat_case = repeat.body["case_id"].as_str().expect("case").to_owned();
    let flagged = bureau
        .get_case(GetCaseRequest {
            case_id: repeat_case.clone(),
        })
        .await
        .expect("case")
        .into_inner();
    assert_eq!(flagged.case.expect("case").repeat_of_case_id, case_id);
    assert!(
        flagged.log[0].note.contains("不再受理"),
        "{:?}",
        flagged.log
    );
    let refused = bureau
        .accept_case(AcceptCaseRequest {
            case_id: repeat_case.clone(),
            expected_version: 0,
            note: String::new(),
            new_facts: false,
        })
        .await
        .expect_err("the same claim again");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(
        refused.message().contains("new_facts"),
        "{}",
        refused.message()
    );
    let accepted = bureau
        .accept_case(AcceptCaseRequest {
            case_id: repeat_case,
            expected_version: 0,
            note: "有新的事实和理由".into(),
            new_facts: true,
        })
        .await
        .expect("accepted on new facts")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(accepted.stage, Stage::Handling as i32);
    w.stop().await;
}

#[tokio::test]
async fn without_the_registry_a_case_is_refused_for_now_and_nothing_is_written() {
    let w = World::start().await;
    let before = written(&w.bridge.service.pool).await;
    let World {
        registry,
        issues,
        bridge,
        fake,
        queue,
        ..
    } = w;
    registry.stop().await;
    let answer = fake
        .send(&fake.case(&unique_name("XF-"), 1, &petition::id_number(31), Utc::now()))
        .await;
    assert_eq!(answer.status, 503, "{:?}", answer.body);
    assert_eq!(written(&bridge.service.pool).await[..4], before[..4]);
    bridge.stop().await;
    issues.stop().await;
    zoufang_e2e::delete_consumer_queues(&queue, &zoufang_bus::consumer::default_retry_delays())
        .await;
}
