//! The ledger follows petition cases (信访件) and 12345 work orders from the
//! petition bridge: a received case becomes one ledger item with the case's
//! statutory deadline, later changes move that deadline (and the sweeper
//! announces it), answers close the item, review requests reopen it, merged
//! cases become duplicates and returned orders are explained. Replays under
//! new event ids change nothing.
//!
//! Events go straight to this test's ledger queue (other tests' ledgers bind
//! the same routing keys on the shared exchange); what the ledger publishes
//! is read off a tap and picked by issue id.
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use prost::Message;
use uuid::Uuid;
use zoufang_core::fields::to_timestamp;
use zoufang_e2e::{
    eventually, fixtures,
    ledger::{TestLedger, issue, state_of},
    quiet,
    tap::{Seen, Tap},
};
use zoufang_proto::catalogue;
use zoufang_proto::{
    common::v1::ItemKind,
    events::v1::{CaseChange, IssueChanged, PetitionCaseChanged},
    issues::v1::*,
};

const ADMIN: &[&str] = &["county_admin"];
const WAIT: Duration = Duration::from_secs(20);

/// Now, to the second (deadlines are compared to the second).
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// A case of `kind` (petition or hotline) whose ledger item is `issue_id`.
fn new_case(kind: &str, household_id: &str, due: DateTime<Utc>) -> PetitionCaseChanged {
    let case_id = Uuid::new_v4().to_string();
    PetitionCaseChanged {
        external_id: format!("XF-{}", &case_id[..8]),
        case_id,
        source_system: "省信访信息系统".into(),
        channel: "网上".into(),
        region_code: fixtures::VILLAGES[0].into(),
        issue_id: Uuid::new_v4().to_string(),
        received_at: Some(to_timestamp(now())),
        due_at: Some(to_timestamp(due)),
        summary: "村道塌陷，雨天无法通行".into(),
        change: CaseChange::Received.into(),
        kind: kind.into(),
        state: "received".into(),
        household_id: household_id.into(),
        ..Default::default()
    }
}

/// The case after `change`, with the given deadline (None: no deadline runs).
fn changed(
    case: &PetitionCaseChanged,
    change: CaseChange,
    due: Option<DateTime<Utc>>,
) -> PetitionCaseChanged {
    PetitionCaseChanged {
        change: change.into(),
        state: catalogue::petition::verb_of(change)
            .unwrap_or_default()
            .into(),
        due_at: due.map(to_timestamp),
        ..case.clone()
    }
}

/// Publishes `case` as `petition.case.<its change>` and waits until the
/// ledger applied it.
async fn send(stack: &TestLedger, case: &PetitionCaseChanged) -> Uuid {
    let key = catalogue::petition::key_of(case.change()).expect("a case change");
    let id = stack
        .publish(key, &format!("petition/{}", case.case_id), case)
        .await;
    assert!(
        stack.applied(id, WAIT).await,
        "{key} of {} was never applied",
        case.case_id
    );
    id
}

fn deadline_secs(i: &Issue) -> i64 {
    i.deadline.as_ref().expect("a deadline").seconds
}

/// The issue event `verb` for `issue_id`, if the tap sees one within `timeout`.
async fn next_event(tap: &mut Tap, verb: &str, issue_id: &str, timeout: Duration) -> Vec<Seen> {
    let key = format!("issues.issue.{verb}");
    tap.collect(1, timeout, |s| {
        s.envelope.routing_key == key
            && IssueChanged::decode(s.payload.as_slice()).is_ok_and(|e| e.issue_id == issue_id)
    })
    .await
}

async fn sweep(admin: &mut zoufang_e2e::Issues) {
    admin
        .sweep_deadlines(SweepDeadlinesRequest::default())
        .await
        .expect("sweep");
}

#[tokio::test]
async fn petition_cases_become_ledger_items_that_follow_their_case() {
    let stack = TestLedger::start(3600).await;
    let mut tap = Tap::bind("issues.issue.*").await;
    let mut admin = stack
        .issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let by_id = "SELECT count(*) FROM issues WHERE issue_id = $1::uuid";
    let created_events = "SELECT count(*) FROM outbox
                          WHERE subject = 'issues/' || $1 AND routing_key = 'issues.issue.created'";

    // 1. Received: one item with the bridge's id and the statutory deadline.
    let household = Uuid::new_v4().to_string();
    let due = now() + chrono::Duration::days(10);
    let case = new_case("petition", &household, due);
    let id = case.issue_id.clone();
    send(&stack, &case).await;
    assert_eq!(stack.count(by_id, &id).await, 1);
    let (i, timeline) = issue(&mut admin, &id).await;
    assert_eq!(i.source, IssueSource::Petition as i32);
    assert_eq!(i.kind, ItemKind::Petition as i32);
    assert_eq!(i.household_id, household);
    assert_eq!(i.region_code, fixtures::VILLAGES[0]);
    assert_eq!(i.description, "村道塌陷，雨天无法通行");
    assert_eq!(state_of(&i), IssueState::Open);
    assert_eq!(
        deadline_secs(&i),
        due.timestamp(),
        "the case's deadline, not the SLA's"
    );
    assert_eq!(
        stack.count(created_events, &id).await,
        1,
        "{}",
        catalogue::issues::CREATED
    );
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].action, "create");
    assert_eq!(timeline[0].actor, "petition");
    let created = next_event(&mut tap, "created", &id, WAIT).await;
    assert_eq!(created.len(), 1, "the created event reaches the bus");

    // The same case again under a new event id: nothing changes.
    let mut again = case.clone();
    again.due_at = Some(to_timestamp(due + chrono::Duration::days(1)));
    send(&stack, &case).await;
    send(&stack, &again).await;
    assert_eq!(stack.count(by_id, &id).await, 1);
    let (same, _) = issue(&mut admin, &id).await;
    assert_eq!(
        same.version, i.version,
        "a replayed receipt changes nothing"
    );
    assert_eq!(deadline_secs(&same), due.timestamp());
    assert_eq!(stack.count(created_events, &id).await, 1);

    // 2. Accepted, due within the hour: the sweeper announces it as due soon.
    let soon = now() + chrono::Duration::hours(1);
    let accepted = changed(&case, CaseChange::Accepted, Some(soon));
    send(&stack, &accepted).await;
    let (i, timeline) = issue(&mut admin, &id).await;
    assert_eq!(deadline_secs(&i), soon.timestamp());
    assert_eq!(state_of(&i), IssueState::Open);
    let last = timeline.last().unwrap();
    assert_eq!(last.action, "petition_deadline");
    assert!(
        last.note.starts_with("信访时限调整（受理）："),
        "{}",
        last.note
    );
    // A replay neither moves it nor rearms the sweeper.
    send(&stack, &accepted).await;
    assert_eq!(issue(&mut admin, &id).await.0.version, i.version);
    sweep(&mut admin).await;
    assert_eq!(
        next_event(&mut tap, "due_soon", &id, WAIT).await.len(),
        1,
        "due soon for the accepted deadline"
    );
    sweep(&mut admin).await;

    // Extended by 30 days: the deadline moves, and nothing is due any more.
    let later = now() + chrono::Duration::days(30);
    send(&stack, &changed(&case, CaseChange::Extended, Some(later))).await;
    let (i, _) = issue(&mut admin, &id).await;
    assert_eq!(deadline_secs(&i), later.timestamp());
    sweep(&mut admin).await;
    // The sweep has returned; what it and the extension wrote is published
    // once the outbox is drained, and the tap holds it before its marker.
    quiet::outbox_drained(&stack.issues.pool, "issues").await;
    let quiet = tap
        .drain(|s| IssueChanged::decode(s.payload.as_slice()).is_ok_and(|e| e.issue_id == id))
        .await;
    assert!(
        quiet.is_empty(),
        "nothing more after the extension: {quiet:?}"
    );

    // A deadline in the past: the sweeper announces it overdue.
    let past = now() - chrono::Duration::hours(1);
    send(&stack, &changed(&case, CaseChange::Updated, Some(past))).await;
    assert_eq!(
        deadline_secs(&issue(&mut admin, &id).await.0),
        past.timestamp()
    );
    sweep(&mut admin).await;
    assert_eq!(
        next_event(&mut tap, "overdue", &id, WAIT).await.len(),
        1,
        "overdue for the past deadline"
    );

    // A change the ledger does not follow (the bridge's 办结) is taken and
    // ignored.
    let version = issue(&mut admin, &id).await.0.version;
    send(&stack, &changed(&case, CaseChange::Finalized, None)).await;
    assert_eq!(issue(&mut admin, &id).await.0.version, version);

    // 3. Replied 支持: resolved with the reply's note.
    let mut replied = changed(&case, CaseChange::Replied, None);
    replied.outcome = "支持".into();
    replied.note = "已修复村道并书面答复".into();
    send(&stack, &replied).await;
    let (i, _) = issue(&mut admin, &id).await;
    assert_eq!(state_of(&i), IssueState::Resolved);
    assert_eq!(i.resolution, "已修复村道并书面答复");
    assert_eq!(
        next_event(&mut tap, "resolved", &id, WAIT).await.len(),
        1,
        "{}",
        catalogue::issues::RESOLVED
    );
    send(&stack, &replied).await;
    assert_eq!(
        issue(&mut admin, &id).await.0.version,
        i.version,
        "a replayed reply changes nothing"
    );

    // Review requested: reopened, with the review's deadline.
    let review_due = now() + chrono::Duration::days(30);
    let review = changed(&case, CaseChange::ReviewRequested, Some(review_due));
    send(&stack, &review).await;
    let (i, _) = issue(&mut admin, &id).await;
    assert_eq!(state_of(&i), IssueState::Reopened);
    assert_eq!(i.reopen_count, 1);
    assert_eq!(deadline_secs(&i), review_due.timestamp());
    send(&stack, &review).await;
    assert_eq!(
        issue(&mut admin, &id).await.0.version,
        i.version,
        "a replayed review request changes nothing"
    );

    // Reviewed 不予支持: explained.
    let mut reviewed = changed(&case, CaseChange::Reviewed, None);
    reviewed.outcome = "不予支持".into();
    reviewed.note = "维持原答复意见".into();
    send(&stack, &reviewed).await;
    let (i, timeline) = issue(&mut admin, &id).await;
    assert_eq!(state_of(&i), IssueState::Explained);
    assert_eq!(i.explanation, "复查（不予支持）：维持原答复意见");
    let actions: Vec<_> = timeline.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "create",
            "petition_deadline",
            "petition_deadline",
            "petition_deadline",
            "resolve",
            "reopen",
            "explain"
        ]
    );
    let notes: Vec<_> = timeline[1..4].iter().map(|e| e.note.as_str()).collect();
    assert!(notes[0].contains("受理"), "{notes:?}");
    assert!(notes[1].contains("延期"), "{notes:?}");
    assert!(notes[2].contains("更新"), "{notes:?}");
    assert_eq!(timeline[5].note, "申请复查");

    // 4. A second case merged into the first: a duplicate of it.
    let second = new_case("petition", "", now() + chrono::Duration::days(15));
    send(&stack, &second).await;
    let (s, _) = issue(&mut admin, &second.issue_id).await;
    assert_eq!(s.household_id, "", "no household known");
    let mut merged = changed(&second, CaseChange::Merged, None);
    merged.merged_into_issue_id = id.clone();
    send(&stack, &merged).await;
    let (s, _) = issue(&mut admin, &second.issue_id).await;
    assert_eq!(state_of(&s), IssueState::Duplicate);
    assert_eq!(s.merged_into, id);
    send(&stack, &merged).await;
    assert_eq!(
        issue(&mut admin, &second.issue_id).await.0.version,
        s.version
    );
    let (_, first_timeline) = issue(&mut admin, &id).await;
    assert_eq!(first_timeline.last().unwrap().action, "merge_in");

    // A hotline order whose change overtakes its receipt: retried until the
    // item exists, then applied; returned (退单) → explained.
    let hotline = new_case("hotline", "", now() + chrono::Duration::days(15));
    let moved = now() + chrono::Duration::days(5);
    let early = stack
        .publish(
            catalogue::petition::UPDATED,
            &format!("petition/{}", hotline.case_id),
            &changed(&hotline, CaseChange::Updated, Some(moved)),
        )
        .await;
    send(&stack, &hotline).await;
    assert!(
        stack.applied(early, Duration::from_secs(30)).await,
        "the early change is applied once the item exists"
    );
    let h = eventually(WAIT, || {
        let mut c = admin.clone();
        let id = hotline.issue_id.clone();
        async move {
            let (h, _) = issue(&mut c, &id).await;
            (deadline_secs(&h) == moved.timestamp()).then_some(h)
        }
    })
    .await
    .expect("the early change's deadline");
    assert_eq!(h.source, IssueSource::Hotline as i32);
    let mut returned = changed(&hotline, CaseChange::Returned, None);
    returned.note = "不属于本单位职责".into();
    send(&stack, &returned).await;
    let (h, _) = issue(&mut admin, &hotline.issue_id).await;
    assert_eq!(state_of(&h), IssueState::Explained);
    assert_eq!(h.explanation, "退单：不属于本单位职责");

    stack.stop().await;
}
