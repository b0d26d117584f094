//! Faults under load, shared by the fault tests (the binary `faults`,
//! `tests/tests/faults/`): a steady [`Load`] of visits recorded through the
//! gateway, each retried with the same body (so the same visit_id, an
//! idempotent create) until it is acknowledged, and [`verify_exactly_once`],
//! which waits until the services are quiet and then checks that every
//! acknowledged visit is in the registry once, each of its raised items is
//! in the ledger once, each assignment pages its cadre once, and supervision
//! holds at most one callback per sampled subject with its per-cadre
//! sampling counter equal to its visit callbacks.
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::{
    eventually,
    fixtures::{self, Seed, VILLAGES},
    procs::{Stack, proto_json},
};

/// How long one visit may keep failing before the load gives up (and the
/// test fails): far longer than any fault the tests inject.
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);
/// The pause between two attempts of the same visit.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// How long the load waits for one answer: longer than a database restart
/// on a busy machine takes (a request held meanwhile gets its real answer,
/// a 503 or a 200, instead of "no answer").
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A request answered later than this waited out a fault.
const WAITED: Duration = Duration::from_secs(2);

/// Seeds `stack` through the gateway (`Stack::seed`) and registers `extra`
/// more households over the test villages; the seed and every household id
/// the load may visit.
pub async fn seed_households(stack: &Stack, admin: &str, extra: u32) -> (Seed, Vec<String>) {
    let seed = stack.seed(admin).await;
    let mut households = seed.household_ids.clone();
    for n in 0..extra {
        let id = Uuid::new_v4().to_string();
        stack
            .rpc(
                admin,
                "registry",
                "RegisterHousehold",
                &fixtures::household_request(&id, VILLAGES[n as usize % VILLAGES.len()], n + 10),
            )
            .await;
        households.push(id);
    }
    (seed, households)
}

/// A steady load of `RecordVisit` through the gateway: `workers` tasks, each
/// recording a visit every `period`, until [`Load::stop`].
#[derive(Debug)]
pub struct Load {
    stop: Arc<AtomicBool>,
    failures: Arc<AtomicU64>,
    waited: Arc<AtomicU64>,
    failed_with: FailedWith,
    workers: Vec<JoinHandle<Recorded>>,
    started: Instant,
}

/// Failed requests by answer, shared by the workers.
type FailedWith = Arc<std::sync::Mutex<BTreeMap<String, u64>>>;

/// What one worker recorded: each visit acknowledged by the gateway (after
/// as many retries with the same visit_id as it took).
#[derive(Debug, Default)]
struct Recorded {
    visits: Vec<Uuid>,
    attempts: u64,
}

/// What the whole load recorded.
#[derive(Debug)]
pub struct Loaded {
    /// Every visit the gateway acknowledged, each once.
    pub visits: Vec<Uuid>,
    /// Requests sent, retries included.
    pub attempts: u64,
    /// Requests that failed and were retried.
    pub failures: u64,
    /// Requests answered (whatever the answer) only after [`WAITED`].
    pub waited: u64,
    /// The failures by what the gateway answered: its HTTP status, or
    /// `no answer` (the connection failed or timed out).
    pub failed_with: BTreeMap<String, u64>,
    /// How long the load ran.
    pub secs: f64,
}

impl Loaded {
    /// Panics unless the load recorded at least `per_sec` visits a second
    /// on average (a load that stalled proves little).
    pub fn assert_rate(&self, per_sec: f64) {
        assert!(
            self.visits.len() as f64 >= self.secs * per_sec,
            "the load recorded only {} visits in {:.1} s",
            self.visits.len(),
            self.secs
        );
    }
}

impl Load {
    /// Starts `workers` workers on the stack's gateway as `token`, visiting
    /// `households` in turn, each worker once every `period`.
    pub fn start(
        stack: &Stack,
        token: &str,
        seed: &Seed,
        households: &[String],
        workers: usize,
        period: Duration,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(AtomicU64::new(0));
        let waited = Arc::new(AtomicU64::new(0));
        let failed_with = FailedWith::default();
        let url = stack.url("/v1/registry/RecordVisit");
        let workers = (0..workers)
            .map(|w| {
                tokio::spawn(worker(
                    Worker {
                        first: w,
                        stride: workers,
                        period,
                        url: url.clone(),
                        token: token.to_owned(),
                        seed: seed.clone(),
                        households: households.to_vec(),
                    },
                    stop.clone(),
                    failures.clone(),
                    waited.clone(),
                    failed_with.clone(),
                ))
            })
            .collect();
        Self {
            stop,
            failures,
            waited,
            failed_with,
            workers,
            started: Instant::now(),
        }
    }

    /// Requests that failed so far (and were retried).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Stops the workers, waits until each has its current visit
    /// acknowledged, and returns what they recorded. Panics if a worker
    /// panicked (a client error, or a visit failing for a minute), or if a
    /// visit_id was acknowledged twice.
    pub async fn stop(self) -> Loaded {
        self.stop.store(true, Ordering::Relaxed);
        let mut visits = Vec::new();
        let mut attempts = 0;
        for w in self.workers {
            let r = w.await.expect("a load worker panicked");
            visits.extend(r.visits);
            attempts += r.attempts;
        }
        let distinct: BTreeSet<Uuid> = visits.iter().copied().collect();
        assert_eq!(distinct.len(), visits.len(), "the load reused a visit_id");
        Loaded {
            visits,
            attempts,
            failures: self.failures.load(Ordering::Relaxed),
            waited: self.waited.load(Ordering::Relaxed),
            failed_with: self.failed_with.lock().expect("tally").clone(),
            secs: self.started.elapsed().as_secs_f64(),
        }
    }
}

/// One worker's settings.
struct Worker {
    /// Its first household (then every `stride`-th).
    first: usize,
    stride: usize,
    period: Duration,
    url: String,
    token: String,
    seed: Seed,
    households: Vec<String>,
}

/// Records visits until `stop`, retrying each failed request with the same
/// body (so the same visit_id) until the gateway answers 200.
async fn worker(
    w: Worker,
    stop: Arc<AtomicBool>,
    failures: Arc<AtomicU64>,
    waited: Arc<AtomicU64>,
    failed_with: FailedWith,
) -> Recorded {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("http client");
    let mut recorded = Recorded::default();
    let mut tick = tokio::time::interval(w.period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = w.first;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let household = &w.households[n % w.households.len()];
        n += w.stride;
        let request = fixtures::visit_request(&w.seed, household);
        let visit_id: Uuid = request.visit_id.parse().expect("uuid");
        let body = proto_json("registry", "RecordVisit", &request);
        let t0 = Instant::now();
        loop {
            recorded.attempts += 1;
            let sent = Instant::now();
            let reply = http
                .post(&w.url)
                .bearer_auth(&w.token)
                .json(&body)
                .send()
                .await;
            if sent.elapsed() >= WAITED {
                waited.fetch_add(1, Ordering::Relaxed);
            }
            let answer = match reply {
                Ok(r) if r.status().as_u16() == 200 => break,
                Ok(r) => {
                    let status = r.status().as_u16();
                    let text = r.text().await.unwrap_or_default();
                    // A client error is the test's fault, never the fault's:
                    // retrying would spin forever.
                    assert!(
                        !matches!(status, 400 | 401 | 403 | 404 | 422),
                        "RecordVisit {visit_id}: {status} {text}"
                    );
                    status.to_string()
                }
                Err(_) => "no answer".to_owned(),
            };
            failures.fetch_add(1, Ordering::Relaxed);
            *failed_with
                .lock()
                .expect("tally")
                .entry(answer)
                .or_default() += 1;
            assert!(
                t0.elapsed() < GIVE_UP_AFTER,
                "RecordVisit {visit_id} failed for {GIVE_UP_AFTER:?}"
            );
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        recorded.visits.push(visit_id);
    }
    recorded
}

/// What the services hold for the recorded visits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub visits: i64,
    pub items: i64,
    pub ledger: i64,
    pub assigned_expected: i64,
    pub assigned: i64,
    pub callbacks: i64,
    pub visit_facts: i64,
    pub pending_outbox: i64,
}

impl Snapshot {
    /// Every outbox published, and the ledger, notify and supervision have
    /// applied every visit's events.
    fn caught_up(&self) -> bool {
        self.pending_outbox == 0
            && self.ledger == self.items
            && self.assigned == self.assigned_expected
            && self.visit_facts == self.visits
    }
}

async fn scalar(pool: &PgPool, sql: &'static str, visits: &[Uuid]) -> i64 {
    let q = sqlx::query_scalar::<_, i64>(sql);
    let q = if sql.contains("$1") {
        q.bind(visits.to_vec())
    } else {
        q
    };
    q.fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// What the services hold now for `visits`.
pub async fn snapshot(pool: &PgPool, visits: &[Uuid]) -> Snapshot {
    Snapshot {
        visits: scalar(
            pool,
            "SELECT count(*) FROM registry.visits WHERE visit_id = ANY($1)",
            visits,
        )
        .await,
        items: scalar(
            pool,
            "SELECT count(*) FROM registry.visit_items WHERE visit_id = ANY($1)",
            visits,
        )
        .await,
        ledger: scalar(
            pool,
            "SELECT count(*) FROM issues.issues WHERE visit_id = ANY($1)",
            visits,
        )
        .await,
        assigned_expected: scalar(
            pool,
            "SELECT count(*) FROM issues.issues WHERE visit_id = ANY($1) AND responsible_cadre_id <> ''",
            visits,
        )
        .await,
        assigned: scalar(
            pool,
            "SELECT count(*) FROM notify.notifications WHERE kind = 'issue.assigned'",
            visits,
        )
        .await,
        callbacks: scalar(pool, "SELECT count(*) FROM supervision.callbacks", visits).await,
        visit_facts: scalar(
            pool,
            "SELECT count(*) FROM supervision.visit_facts WHERE visit_id = ANY($1)",
            visits,
        )
        .await,
        pending_outbox: scalar(
            pool,
            "SELECT (SELECT count(*) FROM registry.outbox WHERE published_at IS NULL)
                  + (SELECT count(*) FROM issues.outbox WHERE published_at IS NULL)
                  + (SELECT count(*) FROM supervision.outbox WHERE published_at IS NULL)
                  + (SELECT count(*) FROM notify.outbox WHERE published_at IS NULL)",
            visits,
        )
        .await,
    }
}

/// The figures [`verify_exactly_once`] checked, to print.
#[derive(Debug, Clone)]
pub struct Counts {
    /// Visits acknowledged (each in the registry once).
    pub visits: usize,
    /// Their raised items in the registry.
    pub items: i64,
    /// Their ledger entries (each item once).
    pub ledger: i64,
    /// `issue.assigned` notifications (one per assigned ledger entry).
    pub assigned: usize,
    /// Notifications of every kind.
    pub notifications: i64,
    /// Supervision callbacks in all, of visits and of issues.
    pub callbacks: i64,
    pub visit_callbacks: i64,
    pub issue_callbacks: i64,
    /// How long the services took to become quiet after the load stopped.
    pub quiet_secs: f64,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "visits {}; items {} (ledger {}); issue.assigned {} of {} notifications; callbacks {} (visit {}, issue {})",
            self.visits,
            self.items,
            self.ledger,
            self.assigned,
            self.notifications,
            self.callbacks,
            self.visit_callbacks,
            self.issue_callbacks
        )
    }
}

/// Waits (up to `quiet_within`) until every outbox is published, the ledger,
/// notify and supervision have caught up with `visits` and nothing moved for
/// a second; then checks that nothing was lost and nothing doubled, and
/// returns the counts. Panics naming what is wrong.
pub async fn verify_exactly_once(pool: &PgPool, visits: &[Uuid], quiet_within: Duration) -> Counts {
    let t_quiet = Instant::now();
    let last = std::sync::Mutex::new(None::<Snapshot>);
    let quiet = eventually(quiet_within, || async {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let now = snapshot(pool, visits).await;
        let previous = last.lock().expect("lock").replace(now.clone());
        (now.caught_up() && previous.as_ref() == Some(&now)).then_some(now)
    })
    .await;
    let quiet_secs = t_quiet.elapsed().as_secs_f64();
    let settled = snapshot(pool, visits).await;
    eprintln!(
        "faults: {} after {quiet_secs:.1} s: {settled:?}",
        if quiet.is_some() {
            "quiet"
        } else {
            "NOT quiet"
        },
    );

    check_visits(pool, visits).await;
    let (items, ledger) = check_ledger(pool, visits).await;
    let assigned = check_notifications(pool, visits).await;
    let (visit_callbacks, issue_callbacks) = check_callbacks(pool, visits).await;
    assert_eq!(
        settled.visit_facts,
        visits.len() as i64,
        "supervision did not record the facts of every visit"
    );
    // Last, so a more precise failure above speaks first.
    assert!(quiet.is_some(), "the system never settled: {settled:?}");
    Counts {
        visits: visits.len(),
        items,
        ledger,
        assigned,
        notifications: scalar(pool, "SELECT count(*) FROM notify.notifications", visits).await,
        callbacks: settled.callbacks,
        visit_callbacks,
        issue_callbacks,
        quiet_secs,
    }
}

/// Every visit the load recorded, exactly once, and no other.
async fn check_visits(pool: &PgPool, visits: &[Uuid]) {
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT visit_id, count(*) FROM registry.visits WHERE visit_id = ANY($1) GROUP BY visit_id",
    )
    .bind(visits)
    .fetch_all(pool)
    .await
    .expect("visits");
    let in_registry: BTreeMap<Uuid, i64> = rows.into_iter().collect();
    let lost: Vec<&Uuid> = visits
        .iter()
        .filter(|v| !in_registry.contains_key(v))
        .collect();
    assert!(
        lost.is_empty(),
        "visits acknowledged but not in registry.visits: {lost:?}"
    );
    let doubled: Vec<_> = in_registry.iter().filter(|(_, n)| **n != 1).collect();
    assert!(doubled.is_empty(), "visits more than once: {doubled:?}");
    let all_visits = scalar(pool, "SELECT count(*) FROM registry.visits", visits).await;
    assert_eq!(
        all_visits,
        visits.len() as i64,
        "registry.visits holds visits the load never had acknowledged"
    );
}

/// Every raised item of `visits`, exactly once in the ledger; (items, ledger rows).
async fn check_ledger(pool: &PgPool, visits: &[Uuid]) -> (i64, i64) {
    let items: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT visit_id, count(*) FROM registry.visit_items WHERE visit_id = ANY($1) GROUP BY visit_id",
    )
    .bind(visits)
    .fetch_all(pool)
    .await
    .expect("visit items");
    let items: BTreeMap<Uuid, i64> = items.into_iter().collect();
    let ledger: Vec<(Uuid, i64, i64)> = sqlx::query_as(
        "SELECT visit_id, count(*), count(DISTINCT item_no) FROM issues.issues
         WHERE visit_id = ANY($1) GROUP BY visit_id",
    )
    .bind(visits)
    .fetch_all(pool)
    .await
    .expect("ledger");
    let ledger: BTreeMap<Uuid, (i64, i64)> =
        ledger.into_iter().map(|(v, n, d)| (v, (n, d))).collect();
    let mut wrong = Vec::new();
    for v in visits {
        let want = items.get(v).copied().unwrap_or(0);
        let got = ledger.get(v).copied().unwrap_or((0, 0));
        if want == 0 || got != (want, want) {
            wrong.push(format!(
                "visit {v}: {want} items in the registry, ledger (rows, distinct item_no) = {got:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} visits whose ledger entries are not exactly their items:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    (items.values().sum(), ledger.values().map(|(n, _)| n).sum())
}

/// No (recipient, fact) notified twice, and each ledger item with a
/// responsible cadre pages that cadre exactly once (issue.assigned, fact key
/// `issue:<id>:assigned:<cadre>:<reopen count>`, notify's rules), and nothing
/// else pages anyone as assigned. The number of such pages.
async fn check_notifications(pool: &PgPool, visits: &[Uuid]) -> usize {
    let dup_notifications: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT recipient_id, fact_key, count(*) FROM notify.notifications
         GROUP BY recipient_id, fact_key HAVING count(*) > 1",
    )
    .fetch_all(pool)
    .await
    .expect("notification duplicates");
    assert!(
        dup_notifications.is_empty(),
        "notified twice: {dup_notifications:?}"
    );
    let assigned_issues: Vec<(Uuid, String, i32)> = sqlx::query_as(
        "SELECT issue_id, responsible_cadre_id, reopen_count FROM issues.issues
         WHERE visit_id = ANY($1) AND responsible_cadre_id <> ''",
    )
    .bind(visits)
    .fetch_all(pool)
    .await
    .expect("assigned issues");
    let expected: BTreeSet<(String, String)> = assigned_issues
        .iter()
        .map(|(id, cadre, reopen)| {
            (
                cadre.clone(),
                format!("issue:{id}:assigned:{cadre}:{reopen}"),
            )
        })
        .collect();
    let paged: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT recipient_id, fact_key FROM notify.notifications
         WHERE kind = 'issue.assigned'",
    )
    .fetch_all(pool)
    .await
    .expect("issue.assigned notifications");
    let paged: BTreeSet<(String, String)> = paged.into_iter().collect();
    let missing: Vec<_> = expected.difference(&paged).collect();
    let extra: Vec<_> = paged.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "issue.assigned notifications differ from the ledger's assignments: {} missing {missing:?}, {} unexpected {extra:?}",
        missing.len(),
        extra.len()
    );
    assert!(
        !expected.is_empty(),
        "no ledger item had a responsible cadre: nothing checked"
    );
    paged.len()
}

/// At most one callback per sampled subject, the per-cadre sampling
/// counter equals the visit callbacks it selected, and each visit's
/// dispute is called back exactly once (none missing, none doubled, nothing
/// else); (visit, issue) callbacks.
async fn check_callbacks(pool: &PgPool, visits: &[Uuid]) -> (i64, i64) {
    let dup_callbacks: Vec<(i16, Option<Uuid>, Option<Uuid>, i64)> = sqlx::query_as(
        "SELECT subject, issue_id, visit_id, count(*) FROM supervision.callbacks
         GROUP BY subject, issue_id, visit_id HAVING count(*) > 1",
    )
    .fetch_all(pool)
    .await
    .expect("callback duplicates");
    assert!(
        dup_callbacks.is_empty(),
        "more than one callback for a subject: {dup_callbacks:?}"
    );
    let visit_callbacks = scalar(
        pool,
        "SELECT count(*) FROM supervision.callbacks WHERE issue_id IS NULL AND visit_id = ANY($1)",
        visits,
    )
    .await;
    let issue_callbacks = scalar(
        pool,
        "SELECT count(*) FROM supervision.callbacks WHERE issue_id IS NOT NULL",
        visits,
    )
    .await;
    // From the client's side: each visit of the load raises one dispute,
    // mediated on the spot (`fixtures::visit_request`), and a resolved
    // dispute is always called back; nothing else of the load's items is
    // resolved. So one issue callback per acknowledged visit, on its dispute.
    let on_disputes: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT i.visit_id, count(*) FROM supervision.callbacks c
           JOIN issues.issues i ON i.issue_id = c.issue_id
          WHERE i.visit_id = ANY($1) AND i.kind = $2
          GROUP BY i.visit_id",
    )
    .bind(visits)
    .bind(zoufang_proto::common::v1::ItemKind::Dispute as i16)
    .fetch_all(pool)
    .await
    .expect("callbacks on the visits' disputes");
    let wrong: Vec<&(Uuid, i64)> = on_disputes.iter().filter(|(_, n)| *n != 1).collect();
    assert!(
        wrong.is_empty()
            && on_disputes.len() == visits.len()
            && issue_callbacks == visits.len() as i64,
        "issue callbacks: {issue_callbacks} in all, {} of {} visits' disputes called back, \
         some more than once: {wrong:?}",
        on_disputes.len(),
        visits.len()
    );
    let selected = scalar(
        pool,
        "SELECT coalesce(sum(selected), 0)::bigint FROM supervision.cadre_sampling",
        visits,
    )
    .await;
    assert_eq!(
        selected, visit_callbacks,
        "supervision counted {selected} visits selected for callbacks but holds {visit_callbacks} visit callbacks"
    );
    (visit_callbacks, issue_callbacks)
}

/// The fake SMS provider and webhook receiver a fault stack's notify sends
/// to: each records every request it gets, an independent record of what
/// was delivered.
#[derive(Debug)]
pub struct Receivers {
    /// Stands in for the SMS provider.
    pub sms: crate::fake_http::FakeHttp,
    /// Receives the township's `issue.assigned` webhook.
    pub webhook: crate::fake_http::FakeHttp,
}

/// The phone the seed's cadre is paged on.
const CADRE_PHONE: &str = "13807340001";

impl Receivers {
    /// Starts both servers.
    pub async fn start() -> Self {
        Self {
            sms: crate::fake_http::FakeHttp::start().await,
            webhook: crate::fake_http::FakeHttp::start().await,
        }
    }

    /// The stack's options: notify sends SMS to [`Receivers::sms`] and may
    /// reach 127.0.0.1.
    pub fn stack_options(&self) -> crate::procs::StackOptions {
        crate::procs::StackOptions::default()
            .service_env("notify", "SMS_PROVIDER_URL", self.sms.url("/sms/send"))
            .service_env("notify", "OUTBOUND_ALLOW", "127.0.0.1")
    }

    /// Puts the seed's cadre in notify's directory with a phone and no quiet
    /// hours (the test may run at night in Beijing), and subscribes the
    /// webhook to the township's `issue.assigned`.
    pub async fn subscribe(&self, stack: &Stack, admin: &str, seed: &Seed) {
        use zoufang_proto::notify::v1::*;
        stack
            .rpc(
                admin,
                "notify",
                "UpsertRecipient",
                &UpsertRecipientRequest {
                    recipient: Some(Recipient {
                        recipient_id: seed.cadre_id.clone(),
                        name: "周飞好".into(),
                        roles: vec!["cadre".into()],
                        region_code: fixtures::VILLAGES[0].into(),
                        phone: CADRE_PHONE.into(),
                        active: true,
                    }),
                    deactivate: false,
                },
            )
            .await;
        stack
            .rpc(
                admin,
                "notify",
                "SetPreferences",
                &SetPreferencesRequest {
                    preferences: Some(Preferences {
                        recipient_id: seed.cadre_id.clone(),
                        sms_enabled: true,
                        digest_enabled: false,
                        quiet_start_minute: 0,
                        quiet_end_minute: 0,
                        muted_kinds: vec![],
                    }),
                },
            )
            .await;
        stack
            .rpc(
                admin,
                "notify",
                "CreateSubscription",
                &CreateSubscriptionRequest {
                    subscription: Some(Subscription {
                        name: "乡镇工作群".into(),
                        channel: Channel::Webhook as i32,
                        region_code: fixtures::TOWNSHIP.into(),
                        url: self.webhook.url("/hook"),
                        secret: "fault-webhook-secret-0123456789".into(),
                        kinds: vec!["issue.assigned".into()],
                        request_id: Uuid::new_v4().to_string(),
                        ..Subscription::default()
                    }),
                },
            )
            .await;
    }
}

/// What the receivers got, checked against the ledger.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// Assigned ledger items of the load's visits (each should page once).
    pub assigned: usize,
    /// Webhook requests received, and distinct deliveries among them.
    pub webhook_requests: usize,
    pub webhook_deliveries: usize,
    /// SMS requests received, and distinct deliveries among them.
    pub sms_requests: usize,
    pub sms_deliveries: usize,
}

/// Waits (up to `within`) until the receivers got a delivery for every
/// ledger item of `visits` assigned to a cadre, then checks against the
/// ledger: the webhook got exactly one delivery (one delivery id) for each
/// such item and for nothing else; the SMS provider got exactly one
/// delivery per item assigned to the seed's cadre, on its phone. A
/// delivery id received more than once is a retry of one delivery (notify
/// sends at least once, receivers drop repeats by the id): counted, not a
/// duplicate.
pub async fn check_deliveries(
    pool: &PgPool,
    receivers: &Receivers,
    seed: &Seed,
    visits: &[Uuid],
    within: Duration,
) -> Delivered {
    let assigned: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT issue_id, responsible_cadre_id FROM issues.issues
         WHERE visit_id = ANY($1) AND responsible_cadre_id <> ''",
    )
    .bind(visits)
    .fetch_all(pool)
    .await
    .expect("assigned issues");
    let want_webhook: BTreeSet<String> = assigned.iter().map(|(i, _)| i.to_string()).collect();
    let want_sms = assigned
        .iter()
        .filter(|(_, cadre)| *cadre == seed.cadre_id)
        .count();
    assert!(
        !want_webhook.is_empty(),
        "no item was assigned: nothing to check"
    );
    // Webhook: delivery ids by issue.
    let webhook_by_issue = || {
        let mut by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in receivers.webhook.requests() {
            let j = r.json();
            if j["kind"] == "issue.assigned" {
                by.entry(j["subject_id"].as_str().unwrap_or_default().to_owned())
                    .or_default()
                    .insert(j["delivery_id"].as_str().unwrap_or_default().to_owned());
            }
        }
        by
    };
    let sms_ids = || {
        receivers
            .sms
            .requests()
            .iter()
            .map(|r| r.json())
            .filter(|j| j["phone"] == CADRE_PHONE)
            .map(|j| j["request_id"].as_str().unwrap_or_default().to_owned())
            .collect::<BTreeSet<String>>()
    };
    let all_in = eventually(within, || async {
        let got = webhook_by_issue();
        (want_webhook.iter().all(|i| got.contains_key(i)) && sms_ids().len() >= want_sms)
            .then_some(())
    })
    .await;
    // Nothing more will go out once no delivery waits or is being sent:
    // every one has ended (sent or failed), so what arrived is all there is.
    let settled = eventually(within, || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM notify.deliveries WHERE state IN ('pending', 'sending')",
        )
        .fetch_one(pool)
        .await
        .expect("notify deliveries");
        (waiting == 0).then_some(())
    })
    .await;
    assert!(
        settled.is_some(),
        "notify still had deliveries to send after {within:?}"
    );
    let got = webhook_by_issue();
    let missing: Vec<&String> = want_webhook
        .iter()
        .filter(|i| !got.contains_key(*i))
        .collect();
    let extra: Vec<&String> = got.keys().filter(|i| !want_webhook.contains(*i)).collect();
    let doubled: Vec<(&String, &BTreeSet<String>)> =
        got.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && doubled.is_empty(),
        "webhook deliveries differ from the ledger's assignments: {} missing {missing:?}, \
         {} unexpected {extra:?}, {} items delivered under several ids {doubled:?}",
        missing.len(),
        extra.len(),
        doubled.len()
    );
    let sms = sms_ids();
    assert_eq!(
        sms.len(),
        want_sms,
        "the SMS provider got {} distinct messages for the cadre's {want_sms} assigned items",
        sms.len()
    );
    assert!(
        all_in.is_some(),
        "not everything was delivered within {within:?}"
    );
    Delivered {
        assigned: want_webhook.len(),
        webhook_requests: receivers.webhook.requests().len(),
        webhook_deliveries: got.values().map(BTreeSet::len).sum(),
        sms_requests: receivers.sms.requests().len(),
        sms_deliveries: sms.len(),
    }
}
