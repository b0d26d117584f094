//! Benchmark: the whole pipeline under load, as an operator runs it. The
//! release binaries of every service run as processes on a fresh database
//! (`procs::Stack`); N gRPC clients record visits, each with two raised
//! items, straight at the registry, for a fixed time, either as fast as
//! they can or at a fixed total rate. It measures:
//!
//! - sustained visits per second and RecordVisit latency;
//! - propagation lag, on the one PostgreSQL clock: a visit's commit →
//!   its ledger items (issue ledger), and → the responsible cadre's
//!   `issue.assigned` notification (notify), p50/p95/p99/max, and per
//!   10-second window, so a pipeline that falls behind shows it;
//! - how long the pipeline takes to drain after the load stops;
//! - CPU (cores) and resident memory (idle, peak under load) of every
//!   service, and the CPU of PostgreSQL, RabbitMQ and the load generator;
//! - in the same run, the machine's own limits as baselines: pgbench
//!   single-row INSERTs and confirmed persistent RabbitMQ publishes at the
//!   same client count, and prints the figures as ratios to them.
//!
//! ```sh
//! cargo run --release -p zoufang-e2e --bin bench-pipeline -- --clients 16 --seconds 60
//! cargo run --release -p zoufang-e2e --bin bench-pipeline -- --clients 32 --seconds 300 --rate 1000
//! ```
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use clap::Parser;
use common::{percentile, pgbench_baseline};
use futures::StreamExt as _;
use resources::{Sampler, Watched, read_proc};
use sqlx::PgPool;
use tonic::transport::Channel;
use uuid::Uuid;
use zoufang_core::auth::BearerInterceptor;
use zoufang_e2e::{
    Registry,
    fixtures::{self, Seed},
    procs::{self, Stack, StackOptions},
    token,
};
use zoufang_proto::registry::v1::{
    RecordVisitRequest, registry_service_client::RegistryServiceClient,
};

#[path = "common.rs"]
mod common;
#[path = "rabbit.rs"]
mod rabbit;
#[path = "resources.rs"]
mod resources;

/// Measures the whole pipeline: visits/s, propagation lag, resources.
#[derive(Debug, Parser)]
struct Args {
    /// Concurrent gRPC clients, each with its own HTTP/2 connection.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds of measured load (after the warm-up).
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Seconds of load before the measurement starts.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Total visits per second to offer; 0 = each client as fast as it can.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Households the visits spread over.
    #[arg(long, default_value_t = 400)]
    households: usize,
    /// Cadres who record the visits, in turn. Each cadre's visits follow
    /// one another 30 minutes apart from the campaign's start, as a real
    /// cadre's day does: one cadre recording every visit at the same hour
    /// would make every visit a fabrication suspect (supervision compares a
    /// visit with the same cadre's visits of that day) and load the
    /// pipeline with work no campaign gives it.
    #[arg(long, default_value_t = 400)]
    cadres: usize,
    /// Seconds each baseline runs.
    #[arg(long, default_value_t = 10)]
    baseline_seconds: u64,
    /// Seconds to wait for the pipeline to drain after the load.
    #[arg(long, default_value_t = 600)]
    drain_timeout: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    procs::use_release_binaries();
    // The registry's pool as large as the clients; the consumers' at 8
    // (the harness's 4 suits tests). PostgreSQL's 100 connections are shared
    // with everything else on the machine.
    let stack = Stack::start_with(
        StackOptions::default()
            .env("DB_MAX_CONNECTIONS", "8")
            .service_env(
                "registry",
                "DB_MAX_CONNECTIONS",
                (args.clients + 4).to_string(),
            ),
    )
    .await;
    run(stack, &args).await
}

/// Runs the load and the measurements; stops the stack before the
/// baselines (so they have the machine and the connections to themselves).
async fn run(stack: Stack, args: &Args) -> anyhow::Result<()> {
    let admin = stack.admin_token().await;
    let seed = stack.seed(&admin).await;
    let registry_url = stack.registry.grpc_url();
    let households = register_households(&registry_url, &seed, args.households).await?;
    let cadres = register_cadres(&registry_url, args.cadres).await?;
    let pool = stack.pool().await;

    // Idle: the services after start-up and seeding, with nothing to do.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle: Vec<(String, f64)> = stack
        .procs()
        .iter()
        .map(|p| {
            let rss = p.pid().and_then(read_proc).map_or(0, |r| r.rss_kib);
            (p.name.clone(), rss as f64 / 1024.0)
        })
        .collect();

    let mut watched: Vec<Watched> = stack
        .procs()
        .iter()
        .map(|p| Watched::pids(p.name.clone(), p.pid().into_iter().collect()))
        .collect();
    watched.push(Watched::named("postgresql (all backends)", "postgres"));
    watched.push(Watched::named("rabbitmq", "beam.smp"));
    watched.push(Watched::pids("load generator", vec![std::process::id()]));

    println!(
        "load: {} clients, {} offered, {} s warm-up + {} s measured, {} households, {} cadres",
        args.clients,
        if args.rate > 0.0 {
            format!("{:.0} visits/s", args.rate)
        } else {
            "as fast as they can".into()
        },
        args.warmup,
        args.seconds,
        households.len(),
        cadres.len()
    );
    let clients = connect_clients(&registry_url, args.clients).await?;
    let errors = Arc::new(AtomicU64::new(0));
    let visits_sent = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let measure_from = t0 + Duration::from_secs(args.warmup);
    let measure_until = measure_from + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(n, client)| {
            tokio::spawn(client_loop(ClientLoop {
                n,
                clients: args.clients,
                rate: args.rate,
                until: measure_until,
                client,
                seed: seed.clone(),
                households: households.clone(),
                cadres: cadres.clone(),
                sent: visits_sent.clone(),
                errors: errors.clone(),
            }))
        })
        .collect();
    tokio::time::sleep_until(measure_from.into()).await;
    let window_start = Utc::now();
    let sampler = Sampler::start(watched, Duration::from_secs(1));
    tokio::time::sleep_until(measure_until.into()).await;
    let window_end = Utc::now();
    let (usage, machine_busy) = sampler.finish().await;
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(
            t.await?
                .into_iter()
                .filter(|(at, _)| *at >= measure_from)
                .map(|(_, us)| us),
        );
    }
    latencies.sort_unstable();
    let load_end = Instant::now();

    // Drain: every item in the ledger, every assignment paged.
    let drained = drain(&pool, Duration::from_secs(args.drain_timeout)).await?;
    let drain_secs = load_end.elapsed().as_secs_f64();

    let visits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM registry.visits WHERE recorded_at >= $1 AND recorded_at < $2",
    )
    .bind(window_start)
    .bind(window_end)
    .fetch_one(&pool)
    .await?;
    let window_secs = (window_end - window_start).num_milliseconds() as f64 / 1000.0;
    let rate = visits as f64 / window_secs;
    let ledger = lag(&pool, LEDGER_LAG, window_start, window_end).await?;
    let paged = lag(&pool, NOTIFY_LAG, window_start, window_end).await?;
    let checked = lag(&pool, SUPERVISION_LAG, window_start, window_end).await?;
    let windows = timeline(&pool, window_start, window_end).await?;
    let events_per_visit =
        events_written(&pool, window_start, window_end).await? as f64 / (visits.max(1) as f64);

    // Baselines, with the stack stopped (its connections closed).
    let database = stack.database.clone();
    drop(pool);
    stack.stop().await;
    let pgbench = pgbench_baseline(&database, args.clients, args.baseline_seconds)?;
    let rabbit = rabbit::publish_confirm_baseline(args.clients, args.baseline_seconds).await?;

    println!("\n== throughput (measured window {window_secs:.1} s)");
    println!(
        "  RecordVisit     {rate:>9.1} visits/s  ({visits} visits, {} errors)",
        errors.load(Ordering::Relaxed)
    );
    println!(
        "  latency ms      p50 {:.1}  p95 {:.1}  p99 {:.1}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99)
    );
    println!("\n== propagation lag from the visit's commit, ms");
    print_lag("ledger items", &ledger);
    print_lag("assignee paged", &paged);
    print_lag("supervision", &checked);
    println!(
        "  drained         {} {drain_secs:.1} s after the load stopped",
        if drained { "in" } else { "NOT within" }
    );
    println!("\n== per 10 s window: visits/s, ledger lag p99 ms, paged lag p99 ms");
    for w in &windows {
        println!(
            "  {:>4}-{:<4} s  {:>8.1}  {:>9.0}  {:>9.0}",
            w.0 * 10,
            w.0 * 10 + 10,
            w.1 as f64 / 10.0,
            w.2,
            w.3
        );
    }
    println!(
        "\n== resources (cores = CPU seconds per second; ms/visit = CPU ms per visit recorded; RSS MiB)"
    );
    println!(
        "  {:<26} {:>7} {:>9} {:>9} {:>9}",
        "process", "cores", "ms/visit", "RSS idle", "RSS peak"
    );
    let per_visit_ms = |cores: f64| cores * 1000.0 / rate.max(1e-9);
    for (label, u) in &usage {
        let idle_rss = idle
            .iter()
            .find(|(n, _)| n == label)
            .map_or("-".to_owned(), |(_, r)| format!("{r:.1}"));
        let peak = if idle.iter().any(|(n, _)| n == label) {
            format!("{:.1}", u.rss_peak_mib)
        } else {
            "-".into()
        };
        println!(
            "  {label:<26} {:>7.2} {:>9.2} {idle_rss:>9} {peak:>9}",
            u.cores,
            per_visit_ms(u.cores)
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let watched_cores: f64 = usage.iter().map(|(_, u)| u.cores).sum();
    println!(
        "  {:<26} {watched_cores:>7.2} {:>9.2}",
        "all of the above",
        per_visit_ms(watched_cores)
    );
    println!(
        "  machine busy    {:.0}% of {cores} cores; at {:.2} CPU ms a visit they carry at most {:.0} visits/s",
        machine_busy * 100.0,
        per_visit_ms(watched_cores),
        cores * rate / watched_cores.max(1e-9)
    );
    println!("  events          {events_per_visit:.2} written to outboxes per visit recorded");
    println!("\n== baselines, same run, {} clients", args.clients);
    println!("  pgbench single-row INSERT        {pgbench:>9.1} tx/s");
    println!("  RabbitMQ persistent + confirm    {rabbit:>9.1} msg/s");
    println!("\n== ratios");
    println!(
        "  pipeline visits/s / pgbench insert    = {:.3}",
        rate / pgbench
    );
    println!(
        "  pipeline visits/s / RabbitMQ publish  = {:.3}",
        rate / rabbit
    );
    Ok(())
}

/// Registers `n` more households over the seed's villages (16 at a time).
async fn register_households(url: &str, seed: &Seed, n: usize) -> anyhow::Result<Arc<Vec<String>>> {
    let mut households = seed.household_ids.clone();
    let client = connect(url).await?;
    let mut pending = futures::stream::iter((0..n).map(|i| {
        let mut client = client.clone();
        async move {
            let id = Uuid::new_v4().to_string();
            let village = fixtures::VILLAGES[i % fixtures::VILLAGES.len()];
            // The fixtures' ID numbers are random (55 years of birth dates,
            // 1,000 serials): among hundreds, two may meet. Draw again.
            let mut tries = 0;
            loop {
                let req = fixtures::household_request(&id, village, 1000 + i as u32);
                match client.register_household(req).await {
                    Err(e) if e.code() == tonic::Code::AlreadyExists && tries < 3 => tries += 1,
                    done => break done.map(|_| id),
                }
            }
        }
    }))
    .buffer_unordered(16);
    while let Some(id) = pending.next().await {
        households.push(id?);
    }
    Ok(Arc::new(households))
}

/// Registers `n` cadres of the town (16 at a time).
async fn register_cadres(url: &str, n: usize) -> anyhow::Result<Arc<Vec<String>>> {
    use zoufang_proto::registry::v1::{CadreUnit, RegisterCadreRequest};
    let client = connect(url).await?;
    let mut pending = futures::stream::iter((0..n).map(|i| {
        let mut client = client.clone();
        async move {
            let id = Uuid::new_v4().to_string();
            client
                .register_cadre(RegisterCadreRequest {
                    cadre_id: id.clone(),
                    name: format!("工作队员{i}"),
                    phone: format!("138{:08}", 7_350_000 + i),
                    unit: CadreUnit::TownshipOffice as i32,
                    position: "工作队员".into(),
                    region_code: "430426104".into(),
                    roles: vec!["cadre".into()],
                })
                .await
                .map(|_| id)
        }
    }))
    .buffer_unordered(16);
    let mut cadres = Vec::with_capacity(n);
    while let Some(id) = pending.next().await {
        cadres.push(id?);
    }
    anyhow::ensure!(!cadres.is_empty(), "--cadres needs at least 1");
    Ok(Arc::new(cadres))
}

/// Events written to every service's outbox between `from` and `to`: what
/// the broker carries per visit.
async fn events_written(
    pool: &sqlx::PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'outbox'",
    )
    .fetch_all(pool)
    .await?;
    let mut total = 0;
    for schema in schemas {
        let sql = format!(
            "SELECT count(*) FROM \"{schema}\".outbox WHERE created_at >= $1 AND created_at < $2"
        );
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await?;
        total += n;
    }
    Ok(total)
}

/// The `g`-th visit of the run, to household `h`: by cadre `g mod K`, whose
/// visits follow one another 30 minutes apart from 29 days ago (the
/// campaign began 30 days ago), each lasting 20 minutes. Households stand
/// on a 20 × 20 grid 200 m apart, so no two share a place and a cadre's
/// walk between any two is plausible: the fabrication signals stay quiet,
/// as they do for honest records.
fn nth_visit(
    seed: &Seed,
    households: &[String],
    h: usize,
    cadres: &[String],
    g: u64,
) -> RecordVisitRequest {
    let k = cadres.len() as u64;
    let h = h % households.len();
    let mut visit = fixtures::visit_request(seed, &households[h]);
    visit.location = Some(zoufang_proto::common::v1::GeoPoint {
        latitude: 26.79 + (h % 20) as f64 * 0.0018,
        longitude: 112.11 + (h / 20 % 20) as f64 * 0.002,
    });
    visit.cadre_ids = vec![cadres[(g % k) as usize].clone()];
    let start = Utc::now().timestamp() - 29 * 86_400 + (g / k) as i64 * 1_800;
    visit.started_at = Some(fixtures::ts(start));
    visit.ended_at = Some(fixtures::ts(start + 1_200));
    visit
}

/// A registry client acting as a county admin (who may record any visit).
async fn connect(url: &str) -> anyhow::Result<Registry> {
    let channel = Channel::from_shared(url.to_owned())?.connect().await?;
    Ok(RegistryServiceClient::with_interceptor(
        channel,
        BearerInterceptor(token("bench-admin", &["county_admin"], fixtures::COUNTY)),
    ))
}

async fn connect_clients(url: &str, n: usize) -> anyhow::Result<Vec<Registry>> {
    futures::future::try_join_all((0..n).map(|_| connect(url))).await
}

struct ClientLoop {
    n: usize,
    clients: usize,
    rate: f64,
    until: Instant,
    client: Registry,
    seed: Seed,
    households: Arc<Vec<String>>,
    cadres: Arc<Vec<String>>,
    /// Visits sent by all clients so far: numbers each visit (see `nth_visit`).
    sent: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
}

/// One client: records visits until `until`; (when, latency µs) of each.
async fn client_loop(mut c: ClientLoop) -> Vec<(Instant, u64)> {
    let mut done = Vec::new();
    // Open loop at rate/clients per client, or closed loop.
    let mut tick = (c.rate > 0.0).then(|| {
        let period = Duration::from_secs_f64(c.clients as f64 / c.rate);
        let mut t = tokio::time::interval_at(
            tokio::time::Instant::now() + period.mul_f64(c.n as f64 / c.clients as f64),
            period,
        );
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        t
    });
    let mut i = c.n;
    while Instant::now() < c.until {
        if let Some(t) = &mut tick {
            t.tick().await;
        }
        let g = c.sent.fetch_add(1, Ordering::Relaxed);
        let request = nth_visit(&c.seed, &c.households, i, &c.cadres, g);
        i += c.clients;
        let at = Instant::now();
        match c.client.record_visit(request).await {
            Ok(_) => done.push((at, at.elapsed().as_micros() as u64)),
            Err(e) => {
                if c.errors.fetch_add(1, Ordering::Relaxed) < 5 {
                    eprintln!("RecordVisit failed: {e}");
                }
            }
        }
    }
    done
}

/// Waits until every raised item is in the ledger and every ledger item
/// with a responsible cadre has paged them; false on timeout.
async fn drain(pool: &PgPool, timeout: Duration) -> anyhow::Result<bool> {
    let deadline = Instant::now() + timeout;
    let mut last_report = Instant::now();
    loop {
        let (items, ledger, assigned, paged, visits, checked): (i64, i64, i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM registry.visit_items),
                    (SELECT count(*) FROM issues.issues WHERE visit_id IS NOT NULL),
                    (SELECT count(*) FROM issues.issues WHERE responsible_cadre_id <> ''),
                    (SELECT count(*) FROM notify.notifications WHERE kind = 'issue.assigned'),
                    (SELECT count(*) FROM registry.visits),
                    (SELECT count(*) FROM supervision.visit_facts)",
            )
            .fetch_one(pool)
            .await?;
        if ledger >= items && paged >= assigned && checked >= visits {
            return Ok(true);
        }
        let report = || {
            eprintln!(
                "drain: {ledger}/{items} items in the ledger, {paged}/{assigned} paged, \
                 {checked}/{visits} visits checked by supervision"
            )
        };
        if Instant::now() > deadline {
            report();
            return Ok(false);
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            report();
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Ledger entries of the window's visits: ms from the visit's commit.
const LEDGER_LAG: &str = "SELECT extract(epoch FROM i.created_at - v.recorded_at) * 1000
     FROM registry.visits v JOIN issues.issues i ON i.visit_id = v.visit_id
     WHERE v.recorded_at >= $1 AND v.recorded_at < $2";

/// The window's visits as stored (and checked) by supervision.
const SUPERVISION_LAG: &str = "SELECT extract(epoch FROM f.stored_at - v.recorded_at) * 1000
     FROM registry.visits v JOIN supervision.visit_facts f ON f.visit_id = v.visit_id
     WHERE v.recorded_at >= $1 AND v.recorded_at < $2";

/// `issue.assigned` notifications of the window's visits' ledger entries.
const NOTIFY_LAG: &str = "SELECT extract(epoch FROM n.created_at - v.recorded_at) * 1000
     FROM registry.visits v JOIN issues.issues i ON i.visit_id = v.visit_id
     JOIN notify.notifications n ON n.kind = 'issue.assigned' AND n.subject_id = i.issue_id::text
     WHERE v.recorded_at >= $1 AND v.recorded_at < $2";

/// (count, p50, p95, p99, max) in ms of the lags `sql` selects (one of
/// the constants above: no outside text reaches the statement).
async fn lag(
    pool: &PgPool,
    sql: &'static str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<(i64, Vec<f64>, f64)> {
    let row: (i64, Option<Vec<f64>>, Option<f64>) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*), percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY ms),
                max(ms)::float8
         FROM ({sql}) AS lags(ms)"
    )))
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?;
    Ok((row.0, row.1.unwrap_or_default(), row.2.unwrap_or(0.0)))
}

fn print_lag(what: &str, (n, p, max): &(i64, Vec<f64>, f64)) {
    let at = |i: usize| p.get(i).copied().unwrap_or(0.0);
    println!(
        "  {what:<15} p50 {:.0}  p95 {:.0}  p99 {:.0}  max {max:.0}  ({n} rows)",
        at(0),
        at(1),
        at(2)
    );
}

/// Per 10-second window of the measurement: (window, visits, ledger lag
/// p99, paged lag p99).
async fn timeline(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Vec<(i32, i64, f64, f64)>> {
    Ok(sqlx::query_as(
        "WITH v AS (
             SELECT visit_id, recorded_at,
                    floor(extract(epoch FROM recorded_at - $1) / 10)::int AS w
             FROM registry.visits WHERE recorded_at >= $1 AND recorded_at < $2
         ), l AS (
             SELECT v.w, extract(epoch FROM i.created_at - v.recorded_at) * 1000 AS ms
             FROM v JOIN issues.issues i ON i.visit_id = v.visit_id
         ), p AS (
             SELECT v.w, extract(epoch FROM n.created_at - v.recorded_at) * 1000 AS ms
             FROM v JOIN issues.issues i ON i.visit_id = v.visit_id
             JOIN notify.notifications n
               ON n.kind = 'issue.assigned' AND n.subject_id = i.issue_id::text
         )
         SELECT v.w, count(*),
                coalesce((SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FROM l WHERE l.w = v.w), 0)::float8,
                coalesce((SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FROM p WHERE p.w = v.w), 0)::float8
         FROM v GROUP BY v.w ORDER BY v.w",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?)
}
