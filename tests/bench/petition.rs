//! Benchmark: the petition bridge. Cases posted to the signed webhook by N
//! concurrent clients (each case matched to a registry household, recorded
//! with its event in one transaction), and the lag from a ledger resolution
//! to the answer reaching the source system. Baselines measured in the same
//! run: pgbench single-row INSERTs at the same client count, and plain
//! HTTP POSTs of the same body to a server that does nothing but record it.
//!
//! ```sh
//! cargo run --release -p zoufang-e2e --bin bench-petition -- --clients 8 --seconds 10
//! ```
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use clap::Parser;
use common::{percentile, pgbench_baseline};
use zoufang_core::clock::Clock;
use zoufang_e2e::{
    FakePetitionSystem, TestPetition, TestService,
    petition::{self, COUNTY, VILLAGES},
    unique_name, wait_for_queue,
};
use zoufang_proto::{
    issues::v1::{GetIssueRequest, ResolveIssueRequest},
    registry::v1::{ImportRegionsRequest, RegisterHouseholdRequest},
};

#[path = "common.rs"]
mod common;

/// Measures the petition webhook and the answer lag against baselines.
#[derive(Debug, Parser)]
struct Args {
    /// Concurrent webhook clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Seconds each throughput measurement runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Registry households the petitioners are matched to.
    #[arg(long, default_value_t = 200)]
    households: usize,
    /// Cases resolved in the ledger to measure the answer lag.
    #[arg(long, default_value_t = 200)]
    answers: usize,
}

/// Runs `clients` loops of `one` for `seconds`; the latencies in µs.
async fn hammer<F, Fut>(clients: usize, seconds: u64, one: F) -> (Vec<u64>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicUsize::new(0));
    let one = Arc::new(one);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, counter, one) = (stop.clone(), counter.clone(), one.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    one(n).await;
                    latencies.push(t.elapsed().as_micros() as u64);
                }
                latencies
            })
        })
        .collect();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client task"));
    }
    all.sort_unstable();
    (all, started.elapsed())
}

fn report(name: &str, latencies: &[u64], elapsed: Duration) -> f64 {
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    println!(
        "  {name:<28} {rate:>9.1}/s   latency ms p50 {:.2}  p95 {:.2}  p99 {:.2}",
        percentile(latencies, 0.50),
        percentile(latencies, 0.95),
        percentile(latencies, 0.99)
    );
    rate
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let database = unique_name("zft");
    let registry = TestService::start_on(&database).await;
    let queue = unique_name("zft");
    let issues = TestService::start_issues_on(&database, &queue, 3600).await;
    wait_for_queue(&queue).await;
    let mut admin = registry.client("bench", &["county_admin"], COUNTY).await;
    admin
        .import_regions(ImportRegionsRequest {
            csv: petition::region_csv().into_bytes(),
        })
        .await?;
    let mut id_numbers = Vec::new();
    for i in 0..args.households {
        let id_number = petition::id_number(i as u32);
        admin
            .register_household(RegisterHouseholdRequest {
                household_id: uuid::Uuid::new_v4().to_string(),
                village_code: VILLAGES[i % VILLAGES.len()].into(),
                group_name: "新屋组".into(),
                address: format!("{i}号"),
                head_name: "唐怀珠".into(),
                id_number: id_number.clone(),
                phone: format!("139{:08}", i),
                member_count: 3,
                tags: vec![],
            })
            .await?;
        id_numbers.push(id_number);
    }
    let bridge = TestPetition::start(&database, Clock::system(), registry.grpc_port).await;
    let fake = Arc::new(FakePetitionSystem::register(&bridge).await);
    let id_numbers = Arc::new(id_numbers);
    let run_id = unique_name("B");

    println!(
        "petition bridge, {} clients, {} s per measurement",
        args.clients, args.seconds
    );
    // Warm up, then the webhook: every case new, every petitioner matched.
    let post = |prefix: &'static str| {
        let (fake, ids, run_id) = (fake.clone(), id_numbers.clone(), run_id.clone());
        move |n: usize| {
            let (fake, ids, run_id) = (fake.clone(), ids.clone(), run_id.clone());
            async move {
                let case = fake.case(
                    &format!("{run_id}-{prefix}-{n}"),
                    1,
                    &ids[n % ids.len()],
                    Utc::now(),
                );
                let answer = fake.send(&case).await;
                assert_eq!(answer.status, 201, "{:?}", answer.body);
            }
        }
    };
    let _ = hammer(args.clients, 2, post("warm")).await;
    let (latencies, elapsed) = hammer(args.clients, args.seconds, post("case")).await;
    let intake = report("webhook case intake", &latencies, elapsed);
    let created = latencies.len();

    // Baseline 1: the same signed POST to a server that only records it.
    let http = reqwest::Client::new();
    let echo_url = fake.answers.url("/echo");
    let body = serde_json::to_vec(&fake.case("ECHO", 1, &id_numbers[0], Utc::now()))?;
    let (echo, echo_elapsed) = hammer(args.clients, args.seconds, move |_| {
        let (http, url, body) = (http.clone(), echo_url.clone(), body.clone());
        async move {
            let r = http.post(&url).body(body).send().await.expect("echo");
            assert!(r.status().is_success());
        }
    })
    .await;
    let echo_rate = report("baseline: HTTP POST, no work", &echo, echo_elapsed);
    let pgbench = pgbench_baseline(&database, args.clients, args.seconds)?;
    println!("  {:<28} {pgbench:>9.1}/s", "baseline: pgbench INSERT");

    // Answer lag: resolve ledger items, time until the source has the answer.
    let mut ledger = issues
        .issues_client("bench", &["county_admin"], COUNTY)
        .await;
    let wanted = args.answers.min(created);
    let cases: Vec<(String, String)> = sqlx::query_as(
        "SELECT external_id, issue_id::text FROM petition.cases
         WHERE external_id LIKE $1 || '-case-%' ORDER BY created_at LIMIT $2",
    )
    .bind(&run_id)
    .bind(wanted as i64)
    .fetch_all(&bridge.service.pool)
    .await?;
    let mut resolved_at = Vec::new();
    for (external, issue_id) in &cases {
        let issue = loop {
            match ledger
                .get_issue(GetIssueRequest {
                    issue_id: issue_id.clone(),
                })
                .await
            {
                Ok(r) => break r.into_inner().issue.expect("issue"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        ledger
            .resolve_issue(ResolveIssueRequest {
                issue_id: issue_id.clone(),
                expected_version: issue.version,
                resolution: "已办结".into(),
            })
            .await?;
        resolved_at.push((external.clone(), Utc::now()));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut lags = Vec::new();
    for (external, at) in &resolved_at {
        let arrived = loop {
            if let Some(r) = fake.answers_for(external, "replied").first() {
                break Some(r.at);
            }
            if Instant::now() > deadline {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        if let Some(t) = arrived {
            lags.push(((t - *at).num_microseconds().unwrap_or(0)).max(0) as u64);
        }
    }
    lags.sort_unstable();
    println!(
        "  answer lag (ledger resolve → source has the reply), {} of {} cases: p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms",
        lags.len(),
        resolved_at.len(),
        percentile(&lags, 0.50),
        percentile(&lags, 0.95),
        percentile(&lags, 0.99)
    );
    println!(
        "ratio: webhook intake / pgbench insert = {:.2}",
        intake / pgbench
    );
    println!(
        "ratio: webhook intake / bare HTTP POST = {:.2}",
        intake / echo_rate
    );

    bridge.stop().await;
    issues.stop().await;
    registry.stop().await;
    zoufang_e2e::delete_consumer_queues(&queue, &zoufang_bus::consumer::default_retry_delays())
        .await;
    Ok(())
}
