//! Faults: under a steady load of recorded visits through the gateway, each
//! consumer service (the ledger, supervision, notify) and then the registry
//! is killed with SIGKILL — no drain, no flush, mid-transaction — and a new
//! process of the same binary is started on the same ports and queue.
//! Afterwards every visit the load recorded is in the registry once, each of
//! its raised items is in the ledger once, each assignment pages its cadre
//! once, and supervision has at most one callback per sampled subject, with
//! its per-cadre sampling counter equal to its visit callbacks: nothing lost,
//! nothing doubled.
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::PgPool;
use uuid::Uuid;
use zoufang_e2e::{
    eventually,
    fixtures::{self, Seed, VILLAGES},
    procs::{Proc, Stack, StackOptions, proto_json},
};

/// Concurrent load workers, each recording a visit every `PERIOD`: 20/s in all.
const WORKERS: usize = 4;
const PERIOD: Duration = Duration::from_millis(200);
/// Households the load spreads its visits over.
const HOUSEHOLDS: u32 = 30;

/// What the load recorded: each visit acknowledged by the gateway (after as
/// many retries with the same visit_id as it took).
#[derive(Debug, Default)]
struct Recorded {
    visits: Vec<Uuid>,
    attempts: u64,
}

/// Records visits until `stop`, retrying each failed request with the same
/// body (so the same visit_id) until the gateway answers 200.
async fn load(
    worker: usize,
    url: String,
    token: String,
    seed: Seed,
    households: Vec<String>,
    stop: Arc<AtomicBool>,
    failures: Arc<AtomicU64>,
) -> Recorded {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let mut recorded = Recorded::default();
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = worker;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let household = &households[n % households.len()];
        n += WORKERS;
        let request = fixtures::visit_request(&seed, household);
        let visit_id: Uuid = request.visit_id.parse().expect("uuid");
        let body = proto_json("registry", "RecordVisit", &request);
        let t0 = Instant::now();
        loop {
            recorded.attempts += 1;
            let reply = http.post(&url).bearer_auth(&token).json(&body).send().await;
            match reply {
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
                }
                Err(_) => {}
            }
            failures.fetch_add(1, Ordering::Relaxed);
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "RecordVisit {visit_id} failed for a minute"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        recorded.visits.push(visit_id);
    }
    recorded
}

/// Kills `proc` with SIGKILL, waits, and starts it again on the same ports.
async fn kill_and_restart(proc: &mut Proc, down: Duration) {
    let pid = proc.pid().expect("running");
    let t0 = Instant::now();
    let status = proc.kill9();
    eprintln!("faults: killed {} (pid {pid}): {status:?}", proc.name);
    tokio::time::sleep(down).await;
    proc.restart().await;
    eprintln!(
        "faults: {} back (pid {:?}) {:.1} s after the kill",
        proc.name,
        proc.pid(),
        t0.elapsed().as_secs_f64()
    );
}

/// What the services hold for the recorded visits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    visits: i64,
    items: i64,
    ledger: i64,
    assigned_expected: i64,
    assigned: i64,
    callbacks: i64,
    visit_facts: i64,
    pending_outbox: i64,
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

async fn snapshot(pool: &PgPool, visits: &[Uuid]) -> Snapshot {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_each_service_under_load_loses_and_doubles_nothing() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t_start = Instant::now();
    let mut stack = Stack::start_with(StackOptions::default()).await;
    let t_seed = Instant::now();
    eprintln!(
        "faults: stack up in {:.1} s (with the harness's build check and cleanup)",
        t_start.elapsed().as_secs_f64()
    );
    let admin = stack.admin_token().await;
    let seed = stack.seed(&admin).await;
    let mut households = seed.household_ids.clone();
    for n in 0..HOUSEHOLDS {
        let id = Uuid::new_v4().to_string();
        stack
            .rpc(
                &admin,
                "registry",
                "RegisterHousehold",
                &fixtures::household_request(&id, VILLAGES[n as usize % VILLAGES.len()], n + 10),
            )
            .await;
        households.push(id);
    }
    eprintln!("faults: seeded in {:.1} s", t_seed.elapsed().as_secs_f64());

    // The load: 20 visits a second through the gateway.
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicU64::new(0));
    let url = stack.url("/v1/registry/RecordVisit");
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            tokio::spawn(load(
                w,
                url.clone(),
                admin.clone(),
                seed.clone(),
                households.clone(),
                stop.clone(),
                failures.clone(),
            ))
        })
        .collect();

    // Each consumer in turn, then the registry: kill -9, down ~1.5 s, back.
    let t_load = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut kills = 0;
    for name in ["issues", "supervision", "notify", "registry"] {
        let proc = match name {
            "issues" => &mut stack.issues,
            "supervision" => &mut stack.supervision,
            "notify" => &mut stack.notify,
            _ => &mut stack.registry,
        };
        kill_and_restart(proc, Duration::from_millis(1500)).await;
        kills += 1;
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut visits = Vec::new();
    let mut attempts = 0;
    for w in workers {
        let r = w.await.expect("a load worker panicked");
        visits.extend(r.visits);
        attempts += r.attempts;
    }
    let load_secs = t_load.elapsed().as_secs_f64();
    eprintln!(
        "faults: load stopped after {load_secs:.1} s: {} visits, {attempts} requests, {} failed and retried",
        visits.len(),
        failures.load(Ordering::Relaxed)
    );
    assert!(
        visits.len() as f64 >= load_secs * 5.0,
        "the load recorded only {} visits in {load_secs:.1} s",
        visits.len()
    );
    let distinct: BTreeSet<Uuid> = visits.iter().copied().collect();
    assert_eq!(distinct.len(), visits.len(), "the load reused a visit_id");

    // Quiet: every outbox published, the ledger and the inbox caught up, and
    // nothing moving for a second.
    let pool = stack.pool().await;
    let t_quiet = Instant::now();
    let last = std::sync::Mutex::new(None::<Snapshot>);
    let quiet = eventually(Duration::from_secs(60), || async {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let now = snapshot(&pool, &visits).await;
        let previous = last.lock().expect("lock").replace(now.clone());
        let caught_up = now.pending_outbox == 0
            && now.ledger == now.items
            && now.assigned == now.assigned_expected
            && now.visit_facts == now.visits;
        (caught_up && previous.as_ref() == Some(&now)).then_some(now)
    })
    .await;
    let settled = snapshot(&pool, &visits).await;
    eprintln!(
        "faults: {} after {:.1} s: {settled:?}",
        if quiet.is_some() {
            "quiet"
        } else {
            "NOT quiet"
        },
        t_quiet.elapsed().as_secs_f64()
    );

    // Every visit the load recorded, exactly once.
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT visit_id, count(*) FROM registry.visits WHERE visit_id = ANY($1) GROUP BY visit_id",
    )
    .bind(&visits)
    .fetch_all(&pool)
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
    let all_visits = scalar(&pool, "SELECT count(*) FROM registry.visits", &visits).await;
    assert_eq!(
        all_visits,
        visits.len() as i64,
        "registry.visits holds visits the load never had acknowledged"
    );

    // Every raised item of those visits, exactly once in the ledger.
    let items: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT visit_id, count(*) FROM registry.visit_items WHERE visit_id = ANY($1) GROUP BY visit_id",
    )
    .bind(&visits)
    .fetch_all(&pool)
    .await
    .expect("visit items");
    let items: BTreeMap<Uuid, i64> = items.into_iter().collect();
    let ledger: Vec<(Uuid, i64, i64)> = sqlx::query_as(
        "SELECT visit_id, count(*), count(DISTINCT item_no) FROM issues.issues
         WHERE visit_id = ANY($1) GROUP BY visit_id",
    )
    .bind(&visits)
    .fetch_all(&pool)
    .await
    .expect("ledger");
    let ledger: BTreeMap<Uuid, (i64, i64)> =
        ledger.into_iter().map(|(v, n, d)| (v, (n, d))).collect();
    let mut wrong = Vec::new();
    for v in &visits {
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
    let item_total: i64 = items.values().sum();

    // Notifications: no (recipient, fact) twice, and each ledger item with a
    // responsible cadre pages that cadre exactly once (issue.assigned, fact
    // key `issue:<id>:assigned:<cadre>:<reopen count>`, notify's rules), and
    // nothing else pages anyone as assigned.
    let dup_notifications: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT recipient_id, fact_key, count(*) FROM notify.notifications
         GROUP BY recipient_id, fact_key HAVING count(*) > 1",
    )
    .fetch_all(&pool)
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
    .bind(&visits)
    .fetch_all(&pool)
    .await
    .expect("assigned issues");
    let expected: BTreeMap<(String, String), i64> = assigned_issues
        .iter()
        .map(|(id, cadre, reopen)| {
            (
                (
                    cadre.clone(),
                    format!("issue:{id}:assigned:{cadre}:{reopen}"),
                ),
                1,
            )
        })
        .collect();
    let paged: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT recipient_id, fact_key, count(*) FROM notify.notifications
         WHERE kind = 'issue.assigned' GROUP BY recipient_id, fact_key",
    )
    .fetch_all(&pool)
    .await
    .expect("issue.assigned notifications");
    let paged: BTreeMap<(String, String), i64> =
        paged.into_iter().map(|(r, f, n)| ((r, f), n)).collect();
    let missing: Vec<_> = expected.keys().filter(|k| !paged.contains_key(k)).collect();
    let extra: Vec<_> = paged.keys().filter(|k| !expected.contains_key(k)).collect();
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
    let notifications = scalar(&pool, "SELECT count(*) FROM notify.notifications", &visits).await;

    // Supervision: at most one callback per sampled subject, and the
    // per-cadre sampling counter equals the visit callbacks it selected.
    let dup_callbacks: Vec<(i16, Option<Uuid>, Option<Uuid>, i64)> = sqlx::query_as(
        "SELECT subject, issue_id, visit_id, count(*) FROM supervision.callbacks
         GROUP BY subject, issue_id, visit_id HAVING count(*) > 1",
    )
    .fetch_all(&pool)
    .await
    .expect("callback duplicates");
    assert!(
        dup_callbacks.is_empty(),
        "more than one callback for a subject: {dup_callbacks:?}"
    );
    let visit_callbacks = scalar(
        &pool,
        "SELECT count(*) FROM supervision.callbacks WHERE issue_id IS NULL AND visit_id = ANY($1)",
        &visits,
    )
    .await;
    let issue_callbacks = scalar(
        &pool,
        "SELECT count(*) FROM supervision.callbacks WHERE issue_id IS NOT NULL",
        &visits,
    )
    .await;
    let selected = scalar(
        &pool,
        "SELECT coalesce(sum(selected), 0)::bigint FROM supervision.cadre_sampling",
        &visits,
    )
    .await;
    assert_eq!(
        selected, visit_callbacks,
        "supervision counted {selected} visits selected for callbacks but holds {visit_callbacks} visit callbacks"
    );
    assert_eq!(
        settled.visit_facts,
        visits.len() as i64,
        "supervision did not record the facts of every visit"
    );
    assert!(quiet.is_some(), "the system never settled: {settled:?}");

    eprintln!(
        "faults: kills {kills}; visits {}; items {item_total} (ledger {}); issue.assigned {} of {} notifications; callbacks {} (visit {visit_callbacks}, issue {issue_callbacks}); requests {attempts}, failed {}; total {:.1} s",
        visits.len(),
        settled.ledger,
        paged.len(),
        notifications,
        settled.callbacks,
        failures.load(Ordering::Relaxed),
        t_start.elapsed().as_secs_f64()
    );
    drop(pool);
    stack.stop().await;
}
