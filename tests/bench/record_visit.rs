//! Benchmark: RecordVisit calls per second through gRPC with N concurrent
//! clients, against a baseline measured in the same run on the same machine
//! — pgbench single-row INSERTs at the same client count — so the figure is
//! a ratio that survives a noisy, shared machine. The baseline runs just
//! before and just after the visits and the ratio takes their mean, so a
//! neighbour's load that starts or stops mid-run skews it less; both are
//! printed, and far apart they say the run was disturbed.
//!
//! ```sh
//! cargo run --release -p zoufang-e2e --bin bench-record-visit -- --clients 16 --seconds 15
//! cargo run --release -p zoufang-e2e --bin bench-record-visit -- --clients 4,16,32 --seconds 10
//! ```
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Parser;
use common::{percentile, pgbench_baseline};
use resources::{Sampler, Usage, Watched};
use uuid::Uuid;
use zoufang_e2e::{TestRegistry, fixtures, unique_name};

#[path = "common.rs"]
mod common;
#[path = "resources.rs"]
mod resources;

/// Measures RecordVisit throughput and latency against a pgbench baseline.
#[derive(Debug, Parser)]
struct Args {
    /// Concurrent clients (each with its own HTTP/2 connection); a
    /// comma-separated list measures each count in turn.
    #[arg(long, value_delimiter = ',', default_value = "16")]
    clients: Vec<usize>,
    /// Seconds each measurement runs.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Households to spread the visits over.
    #[arg(long, default_value_t = 200)]
    households: usize,
    /// The registry's database pool size; by default the most clients plus
    /// 4 (the relay, the consumer, wake-ups after commit).
    #[arg(long)]
    pool: Option<u32>,
    /// Also run the issue ledger and report the lag from a visit's commit to
    /// its ledger entries (p50/p95/p99) under the same load.
    #[arg(long)]
    ledger: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        !args.clients.is_empty() && !args.clients.contains(&0),
        "--clients needs counts of at least 1"
    );
    let most = args.clients.iter().copied().max().unwrap_or(1);
    let database = unique_name("zft");
    let mut config = zoufang_e2e::registry_config(&database);
    // A connection for every client and a few for the relay, the consumer
    // and the wake-ups after commit, so clients never queue for the pool.
    config.common.db_max_connections = match args.pool {
        Some(n) => n,
        None => u32::try_from(most)?.max(4) + 4,
    };
    let registry = TestRegistry::start_with(config, &database).await;
    let ledger_queue = unique_name("zft");
    let ledger = if args.ledger {
        Some(zoufang_e2e::TestService::start_issues_on(&database, &ledger_queue, 3600).await)
    } else {
        None
    };
    let mut admin = registry
        .client("bench-admin", &["county_admin"], fixtures::COUNTY)
        .await;
    let seed = fixtures::seed(&mut admin).await;
    let mut households = seed.household_ids.clone();
    for i in 0..args.households {
        let id = Uuid::new_v4().to_string();
        let village = fixtures::VILLAGES[i % fixtures::VILLAGES.len()];
        admin
            .register_household(fixtures::household_request(&id, village, 1000 + i as u32))
            .await?;
        households.push(id);
    }
    let households = Arc::new(households);
    let seed = Arc::new(seed);

    // `clients` concurrent callers for `seconds`: every call's latency (µs)
    // and the time they took.
    let run = |clients: usize, seconds: u64| {
        let households = households.clone();
        let seed = seed.clone();
        let registry_clients = (0..clients)
            .map(|_| registry.client("bench-admin", &["county_admin"], fixtures::COUNTY))
            .collect::<Vec<_>>();
        async move {
            let stop = Arc::new(AtomicBool::new(false));
            let mut tasks = Vec::new();
            for (n, client) in futures::future::join_all(registry_clients)
                .await
                .into_iter()
                .enumerate()
            {
                let (stop, households, seed) = (stop.clone(), households.clone(), seed.clone());
                tasks.push(tokio::spawn(async move {
                    let mut client = client;
                    let mut latencies = Vec::new();
                    let mut i = n;
                    while !stop.load(Ordering::Relaxed) {
                        let req = fixtures::visit_request(&seed, &households[i % households.len()]);
                        let t = Instant::now();
                        client.record_visit(req).await.expect("record visit");
                        latencies.push(t.elapsed().as_micros() as u64);
                        i += clients;
                    }
                    latencies
                }));
            }
            let started = Instant::now();
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            stop.store(true, Ordering::Relaxed);
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.expect("client task"));
            }
            (all, started.elapsed())
        }
    };

    let mut summary = Vec::new();
    for &clients in &args.clients {
        let _ = run(clients, 2).await;
        let before = pgbench_baseline(&registry.database, clients, args.seconds)?;
        // Where the CPU goes while visits are recorded: this process (the
        // gRPC clients and the registry), PostgreSQL, and the machine.
        let sampler = Sampler::start(
            vec![
                Watched::pids("client and registry", vec![std::process::id()]),
                Watched::named("PostgreSQL", "postgres"),
            ],
            Duration::from_secs(1),
        );
        let (mut latencies, elapsed) = run(clients, args.seconds).await;
        let (usage, machine_busy) = sampler.finish().await;
        // Let the ledger catch up first, so its backlog does not load the
        // baseline that follows.
        let lag = match &ledger {
            Some(ledger) => Some(ledger_lag(&registry.pool, &ledger.pool).await?),
            None => None,
        };
        let sampler = Sampler::start(Vec::new(), Duration::from_secs(1));
        let after = pgbench_baseline(&registry.database, clients, args.seconds)?;
        let (_, pgbench_busy) = sampler.finish().await;
        latencies.sort_unstable();
        let rate = latencies.len() as f64 / elapsed.as_secs_f64();
        let baseline = (before + after) / 2.0;
        let backlog: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(&registry.pool)
                .await?;
        println!(
            "RecordVisit, {clients} clients, {} s: {} visits",
            args.seconds,
            latencies.len()
        );
        println!("  throughput      {rate:>10.1} visits/s");
        println!(
            "  latency ms      p50 {:.2}  p95 {:.2}  p99 {:.2}",
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.95),
            percentile(&latencies, 0.99)
        );
        println!("  outbox backlog  {backlog} unpublished at the end");
        if let Some((items, p50, p95, p99)) = lag {
            println!(
                "  ledger lag ms   p50 {p50:.1}  p95 {p95:.1}  p99 {p99:.1}  (visit commit → ledger entry, {items} entries so far)"
            );
        }
        println!(
            "baseline: pgbench single-row INSERT, {clients} clients: {baseline:.1} tx/s \
             (before {before:.1}, after {after:.1})"
        );
        println!(
            "ratio: RecordVisit / pgbench insert = {:.2}",
            rate / baseline
        );
        print_cpu_costs(
            &CpuCosts {
                visits: latencies.len() as f64,
                seconds: elapsed.as_secs_f64(),
                usage,
                machine_busy,
            },
            after,
            pgbench_busy,
            baseline,
        );
        summary.push((clients, rate, baseline));
    }
    if summary.len() > 1 {
        println!("clients  visits/s  pgbench tx/s  ratio");
        for (clients, rate, baseline) in &summary {
            println!(
                "{clients:>7}  {rate:>8.1}  {baseline:>12.1}  {:>5.2}",
                rate / baseline
            );
        }
    }

    if let Some(ledger) = ledger {
        ledger.stop().await;
        zoufang_e2e::delete_consumer_queues(
            &ledger_queue,
            &zoufang_bus::consumer::default_retry_delays(),
        )
        .await;
    }
    registry.stop().await;
    Ok(())
}

/// The CPU a measurement used: per watched label, cores busy on average;
/// and the machine's busy share of all its cores.
struct CpuCosts {
    visits: f64,
    seconds: f64,
    usage: Vec<(String, Usage)>,
    machine_busy: f64,
}

/// Prints CPU milliseconds per visit (each label, and the whole machine)
/// beside the machine's CPU per pgbench insert, and the ceiling they imply:
/// the rate this process alone would allow if the database cost nothing.
/// On a machine the run saturates, that ceiling bounds the ratio any
/// database-side work could reach.
fn print_cpu_costs(cpu: &CpuCosts, pgbench_tps: f64, pgbench_busy: f64, baseline: f64) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let per_visit_ms =
        |share_of_one_core: f64| share_of_one_core * cpu.seconds * 1000.0 / cpu.visits;
    let machine_ms = per_visit_ms(cpu.machine_busy * cores);
    let parts = cpu
        .usage
        .iter()
        .map(|(label, used)| format!("{label} {:.3}", per_visit_ms(used.cores)))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "  CPU per visit   {machine_ms:.3} ms on the machine ({:.0}% of {cores} cores busy): {parts}",
        cpu.machine_busy * 100.0
    );
    println!(
        "  CPU per insert  {:.3} ms on the machine for pgbench ({:.0}% busy)",
        pgbench_busy * cores * 1000.0 / pgbench_tps.max(1.0),
        pgbench_busy * 100.0
    );
    if let Some((label, own)) = cpu.usage.first() {
        println!(
            "  memory          {label}: peak {:.0} MiB resident",
            own.rss_peak_mib
        );
        let own_ms = per_visit_ms(own.cores);
        if own_ms > 0.0 {
            let ceiling = cores * 1000.0 / own_ms;
            println!(
                "  ceiling         {ceiling:.0} visits/s = {:.2}× pgbench if everything but the {label} cost nothing",
                ceiling / baseline
            );
        }
    }
}

/// Waits until every item of every visit is in the ledger, then returns
/// (entries, p50, p95, p99) of entry creation minus visit commit, in ms.
/// Both clocks are the one PostgreSQL server's.
async fn ledger_lag(
    registry: &sqlx::PgPool,
    ledger: &sqlx::PgPool,
) -> anyhow::Result<(i64, f64, f64, f64)> {
    let expected: i64 = sqlx::query_scalar("SELECT count(*) FROM visit_items")
        .fetch_one(registry)
        .await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM issues WHERE source = 1")
            .fetch_one(ledger)
            .await?;
        if n >= expected || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let row: (i64, f64, f64, f64) = sqlx::query_as(
        "SELECT count(*),
                percentile_cont(0.50) WITHIN GROUP (ORDER BY ms),
                percentile_cont(0.95) WITHIN GROUP (ORDER BY ms),
                percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)
         FROM (SELECT extract(epoch FROM (i.created_at - v.recorded_at)) * 1000 AS ms
               FROM issues.issues i JOIN registry.visits v ON v.visit_id = i.visit_id) lags",
    )
    .fetch_one(ledger)
    .await?;
    Ok(row)
}
