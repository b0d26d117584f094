//! Benchmark: a province-sized dataset loaded through COPY, then the
//! statistics that leaders and supervisors read, measured on it.
//!
//! The generator (`zoufang_gen::province`) builds a province shaped like Hunan's (14 cities, 123
//! counties, ~1,500 townships, ~24,000 villages), one campaign per county,
//! households with their encrypted personal data filled with bytes of the
//! real sizes, visits spread over the households (some households never
//! visited), the items raised on them, the ledger (民情台账) in varied states,
//! categories and deadlines, and supervision callbacks for the worklists.
//! Every row is a deterministic function of `--seed` and its index, so
//! nothing is held in memory and the same seed loads the same province.
//!
//! Loading: the services' real migrations run first (as the services run
//! them); then the big tables lose their indexes and constraints, each is
//! filled by one `COPY … FREEZE` stream (all streams at once; the visits,
//! items, ledger and callbacks interleave townships as real traffic would,
//! so one county's rows are spread over the whole table), and the indexes
//! and constraints come back afterwards, built in bulk. The registry's
//! progress counters are then rebuilt by the registry's own
//! `store::progress::rebuild` (COPY bypasses the statements that keep them).
//!
//! Measuring: the services' own code paths, in-process, on their own pools
//! — the registry's `GetRegionProgress` for a township and for a county, the
//! ledger's `GetIssueStatistics` for a township and a county, and a
//! supervisor's `ListWorklist` page — each many times over random townships,
//! counties and supervisors. The baseline, measured in the same run on the
//! same database, is a single-row SELECT by primary key.
//!
//! ```sh
//! cargo run --release -p zoufang-e2e --bin bench-scale -- --households 300000 --visits 600000 --items 60000
//! cargo run --release -p zoufang-e2e --bin bench-scale -- --keep            # the full province; keeps it
//! cargo run --release -p zoufang-e2e --bin bench-scale -- --database NAME   # measure again, no reload
//! ```
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use clap::Parser;
use common::percentile;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, PgPool};
use tokio::sync::mpsc;
use zoufang_core::{
    auth::{Claims, roles},
    pii::{PiiCipher, PiiKey},
};
use zoufang_e2e::{pg_server, unique_name};
use zoufang_gen::{
    province::{
        Province,
        copy::Sink,
        rows::{Gen, Size},
        tables::{
            CALLBACKS_COPY, HOUSEHOLDS_COPY, ISSUES_COPY, ITEMS_COPY, VISITS_COPY, small_tables,
        },
    },
    rng::Rng,
};
use zoufang_proto::{
    issues::v1::GetIssueStatisticsRequest, registry::v1::GetRegionProgressRequest,
    supervision::v1::ListWorklistRequest,
};

#[path = "common.rs"]
#[allow(dead_code)]
mod common;

/// Loads a province through COPY and measures the statistics queries on it.
#[derive(Debug, Parser)]
struct Args {
    /// Households to register.
    #[arg(long, default_value_t = 15_000_000)]
    households: u64,
    /// Visits to record (spread over the households; some get none).
    #[arg(long, default_value_t = 30_000_000)]
    visits: u64,
    /// Ledger items: ~90% raised on visits (also in visit_items), the rest
    /// from walk-in reception, the hotline and petitions.
    #[arg(long, default_value_t = 3_000_000)]
    items: u64,
    /// Only the first N counties of the province (all 123 by default); with
    /// proportionally fewer households this keeps counties full-sized.
    #[arg(long)]
    counties: Option<usize>,
    /// Keep the database afterwards (its name is printed).
    #[arg(long)]
    keep: bool,
    /// Measure an already loaded database (no load; never dropped). When the
    /// database is empty or missing, load it first.
    #[arg(long)]
    database: Option<String>,
    /// Measurements per query kind.
    #[arg(long, default_value_t = 300)]
    reps: usize,
    /// Seed of the generated province.
    #[arg(long, default_value_t = 9)]
    seed: u64,
    /// Load only; skip the measurements.
    #[arg(long)]
    load_only: bool,
}

/// The tables filled in bulk, whose indexes and constraints are dropped
/// before and rebuilt after.
const BULK_TABLES: &[&str] = &[
    "registry.households",
    "registry.visits",
    "registry.visit_items",
    "issues.issues",
    "supervision.callbacks",
];

// ---------------------------------------------------------------- loading

fn url(database: &str) -> String {
    format!("{}/{database}", pg_server())
}

async fn connect(database: &str) -> anyhow::Result<PgConnection> {
    Ok(PgConnection::connect(&url(database)).await?)
}

/// Runs every service's migrations, exactly as each service does at start.
async fn migrate(database: &str) -> anyhow::Result<Vec<PgPool>> {
    let u = url(database);
    let mut pools = Vec::new();
    for (schema, migrator) in [
        (zoufang_registry::SCHEMA, &zoufang_registry::app::MIGRATOR),
        (zoufang_issues::SCHEMA, &zoufang_issues::app::MIGRATOR),
        (
            zoufang_supervision::SCHEMA,
            &zoufang_supervision::app::MIGRATOR,
        ),
        (zoufang_notify::SCHEMA, &zoufang_notify::app::MIGRATOR),
        (zoufang_gateway::SCHEMA, &zoufang_gateway::app::MIGRATOR),
        (zoufang_petition::SCHEMA, &zoufang_petition::app::MIGRATOR),
    ] {
        pools.push(
            zoufang_core::db::connect_and_migrate(&u, schema, 4, migrator)
                .await
                .with_context(|| format!("migrating {schema}"))?,
        );
    }
    Ok(pools)
}

/// DDL to drop and later restore the indexes and constraints of the bulk tables.
#[derive(Debug, Default)]
struct Ddl {
    drop: Vec<String>,
    /// Primary keys, unique constraints and plain indexes (with the table, for timing).
    build: Vec<(String, String)>,
    /// Foreign keys, added after every index exists.
    foreign: Vec<(String, String)>,
}

async fn capture_ddl(conn: &mut PgConnection) -> anyhow::Result<Ddl> {
    let tables: Vec<String> = BULK_TABLES.iter().map(|t| (*t).to_owned()).collect();
    let constraints: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.conname::text, c.contype::text, pg_get_constraintdef(c.oid)
         FROM pg_constraint c
         WHERE c.contype IN ('p', 'u', 'f')
           AND (c.conrelid::regclass::text = ANY($1) OR c.confrelid::regclass::text = ANY($1))
         ORDER BY c.contype",
    )
    .bind(&tables)
    .fetch_all(&mut *conn)
    .await?;
    let indexes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT format('%I.%I', i.schemaname, i.tablename), format('%I.%I', i.schemaname, i.indexname), i.indexdef
         FROM pg_indexes i
         WHERE format('%I.%I', i.schemaname, i.tablename) = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                           WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)",
    )
    .bind(&tables)
    .fetch_all(&mut *conn)
    .await?;
    let mut ddl = Ddl::default();
    // Drop foreign keys before the keys they reference; add them back last.
    for (table, name, kind, def) in &constraints {
        let add = format!("ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {def}");
        let drop = format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\"");
        if kind == "f" {
            ddl.drop.insert(0, drop);
            ddl.foreign.push((table.clone(), add));
        } else {
            ddl.drop.push(drop);
            ddl.build.push((table.clone(), add));
        }
    }
    for (table, name, def) in indexes {
        ddl.drop.push(format!("DROP INDEX {name}"));
        ddl.build.push((table, def));
    }
    Ok(ddl)
}

/// One COPY stream into `statement`'s table, truncated first in the same
/// transaction so FREEZE applies. Triggers are off for the session (the
/// progress counters are rebuilt afterwards in one pass).
async fn copy_stream(
    database: String,
    statement: &'static str,
    mut rx: mpsc::Receiver<Vec<u8>>,
) -> anyhow::Result<(u64, u64, Duration)> {
    let mut conn = connect(&database).await?;
    conn.execute("SET session_replication_role = replica")
        .await?;
    conn.execute("SET synchronous_commit = off").await?;
    let table = statement
        .split_whitespace()
        .nth(1)
        .context("COPY statement names its table")?
        .to_owned();
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    tx.execute(AssertSqlSafe(format!("TRUNCATE {table}")))
        .await?;
    let mut copy = tx.copy_in_raw(statement).await?;
    let mut bytes = 0u64;
    while let Some(chunk) = rx.recv().await {
        bytes += chunk.len() as u64;
        if let Err(e) = copy.send(chunk).await {
            return Err(anyhow::Error::from(e).context(format!("COPY into {table}")));
        }
    }
    let rows = copy
        .finish()
        .await
        .with_context(|| format!("COPY into {table}"))?;
    tx.commit().await?;
    Ok((rows, bytes, started.elapsed()))
}

/// Runs `statements` on `workers` connections at once, printing each one's time.
async fn run_parallel(
    database: &str,
    workers: usize,
    what: &str,
    statements: Vec<(String, String)>,
) -> anyhow::Result<()> {
    let queue = Arc::new(tokio::sync::Mutex::new(statements));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (queue, database, what) = (queue.clone(), database.to_owned(), what.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut conn = connect(&database).await?;
            conn.execute("SET maintenance_work_mem = '1GB'").await?;
            conn.execute("SET session_replication_role = replica")
                .await?;
            loop {
                let Some((table, sql)) = queue.lock().await.pop() else {
                    break;
                };
                let t = Instant::now();
                conn.execute(AssertSqlSafe(sql.clone()))
                    .await
                    .with_context(|| sql.clone())?;
                let short: String = sql.chars().take(110).collect();
                println!(
                    "  {what:<11} {table:<22} {:>8.1} s  {short}",
                    t.elapsed().as_secs_f64()
                );
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// A sink sending its chunks to a COPY stream.
fn sink(tx: mpsc::Sender<Vec<u8>>) -> Sink {
    Sink::new(Box::new(move |chunk| tx.blocking_send(chunk).is_ok()))
}

async fn load(args: &Args, database: &str, p: &Arc<Province>, now: i64) -> anyhow::Result<()> {
    let loading = Instant::now();
    println!(
        "province: {} counties, {} townships, {} villages; {} households, ~{} visits, ~{} ledger items",
        p.counties.len(),
        p.townships.len(),
        p.villages.len(),
        args.households,
        args.visits,
        args.items
    );
    let t = Instant::now();
    let pools = migrate(database).await?;
    for pool in pools {
        pool.close().await;
    }
    println!(
        "migrations (all six services)          {:>8.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut conn = connect(database).await?;
    let t = Instant::now();
    for (statement, data) in small_tables(p, now) {
        let mut copy = conn.copy_in_raw(statement).await?;
        copy.send(data).await?;
        copy.finish().await.with_context(|| statement.to_owned())?;
    }
    println!(
        "regions, cadres, campaigns, teams        {:>8.1} s",
        t.elapsed().as_secs_f64()
    );

    let ddl = capture_ddl(&mut conn).await?;
    for sql in &ddl.drop {
        conn.execute(AssertSqlSafe(sql.clone())).await?;
    }

    // One COPY stream per table, all at once; two generator threads.
    let pii = PiiCipher::new(&PiiKey::dev());
    let size = Size {
        households: args.households,
        visits: args.visits,
        items: args.items,
    };
    let g = Gen::new(
        p.clone(),
        size,
        now,
        |tag| pii.keyed_hash("tag", tag),
        zoufang_registry::tags::is_sensitive,
    );
    let statements = [
        HOUSEHOLDS_COPY,
        VISITS_COPY,
        ITEMS_COPY,
        ISSUES_COPY,
        CALLBACKS_COPY,
    ];
    let mut senders = Vec::new();
    let mut streams = Vec::new();
    for statement in statements {
        let (tx, rx) = mpsc::channel::<Vec<u8>>(4);
        senders.push(tx);
        streams.push(tokio::spawn(copy_stream(
            database.to_owned(),
            statement,
            rx,
        )));
    }
    let t = Instant::now();
    let mut senders = senders.into_iter();
    let mut households = sink(senders.next().context("sender")?);
    let mut visits = sink(senders.next().context("sender")?);
    let mut items = sink(senders.next().context("sender")?);
    let mut issues = sink(senders.next().context("sender")?);
    let mut callbacks = sink(senders.next().context("sender")?);
    let g2 = g.clone();
    let gen_households = std::thread::spawn(move || g2.households(&mut households));
    let gen_activity = std::thread::spawn(move || {
        g.activity(&mut visits, &mut items, &mut issues, &mut callbacks)
    });
    let mut results = Vec::new();
    for (statement, stream) in statements.iter().zip(streams) {
        let table = statement
            .split_whitespace()
            .nth(1)
            .unwrap_or("?")
            .to_owned();
        results.push((table, stream.await?));
    }
    let generated =
        gen_households.join().is_ok_and(|ok| ok) & gen_activity.join().is_ok_and(|ok| ok);
    println!("COPY, one FREEZE stream per table, all at once:");
    for (table, result) in &results {
        let (rows, bytes, took) = result
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{table}: {e:#}"))?;
        println!(
            "  {table:<22} {rows:>11} rows {:>8.1} s {:>10.0} rows/s {:>8.0} MB",
            took.as_secs_f64(),
            *rows as f64 / took.as_secs_f64(),
            *bytes as f64 / 1e6
        );
    }
    anyhow::ensure!(generated, "a generator stopped early");
    let total_rows: u64 = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().map(|r| r.0))
        .sum();
    println!(
        "  all COPY streams       {total_rows:>11} rows {:>8.1} s {:>10.0} rows/s",
        t.elapsed().as_secs_f64(),
        total_rows as f64 / t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    println!("indexes and keys, built after the load (2 at a time):");
    // Largest tables first (the queue pops from its end).
    let weight = |table: &str| match table {
        "registry.visits" => 5,
        "registry.households" => 4,
        "issues.issues" => 3,
        "supervision.callbacks" => 2,
        _ => 1,
    };
    let mut build = ddl.build;
    build.sort_by_key(|(table, _)| weight(table));
    run_parallel(database, 2, "index", build).await?;
    println!(
        "  indexes                                {:>8.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    run_parallel(database, 2, "foreign key", ddl.foreign).await?;
    println!(
        "  foreign keys (validated)               {:>8.1} s",
        t.elapsed().as_secs_f64()
    );

    // The registry's derived counters: COPY bypassed the statements that
    // keep them.
    let t = Instant::now();
    conn.execute("SET work_mem = '256MB'").await?;
    let mut tx = conn.begin().await?;
    tx.execute("SET LOCAL search_path = registry").await?;
    zoufang_registry::store::progress::rebuild(&mut tx).await?;
    tx.commit().await?;
    println!(
        "progress counters (store::progress::rebuild) {:>8.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    conn.execute("SET maintenance_work_mem = '1GB'").await?;
    for schema in ["registry", "issues", "supervision"] {
        conn.execute(AssertSqlSafe(format!(
            "DO $$ DECLARE t text; BEGIN
               FOR t IN SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = '{schema}'
               LOOP EXECUTE 'ANALYZE ' || t; END LOOP; END $$"
        )))
        .await?;
    }
    // VACUUM cannot run inside DO; the bulk tables are frozen by COPY FREEZE,
    // so this only sets the visibility map of what the rebuild wrote.
    for table in ["issues.issues", "supervision.callbacks"] {
        conn.execute(AssertSqlSafe(format!("VACUUM {table}")))
            .await?;
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
         WHERE schemaname = 'registry' AND tablename LIKE 'progress%'",
    )
    .fetch_all(&mut conn)
    .await?;
    for table in tables {
        conn.execute(AssertSqlSafe(format!("VACUUM {table}")))
            .await?;
    }
    println!(
        "ANALYZE and VACUUM                     {:>8.1} s",
        t.elapsed().as_secs_f64()
    );
    println!(
        "load total                             {:>8.1} s",
        loading.elapsed().as_secs_f64()
    );
    Ok(())
}

// -------------------------------------------------------------- measuring

fn claims(sub: &str, role: &str, scope: &str) -> Claims {
    Claims {
        sub: sub.to_owned(),
        roles: vec![role.to_owned()],
        scope: scope.to_owned(),
        exp: i64::MAX,
        ..Claims::default()
    }
}

/// Latency samples (µs) of one query kind.
#[derive(Debug, Default)]
struct Samples {
    us: Vec<u64>,
}

impl Samples {
    fn quantiles(&mut self) -> (f64, f64, f64) {
        self.us.sort_unstable();
        (
            percentile(&self.us, 0.50),
            percentile(&self.us, 0.95),
            percentile(&self.us, 0.99),
        )
    }
}

/// Runs `call` once and returns (what it counted, microseconds). This
/// machine's PostgreSQL is shared and sometimes restarted under us (the
/// fault tests do it): an error is retried after a pause, up to a minute,
/// and only the successful call is timed.
async fn timed<T, E, F, Fut>(what: &str, mut call: F) -> anyhow::Result<(T, u64)>
where
    E: std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    for attempt in 1.. {
        let t = Instant::now();
        match call().await {
            Ok(v) => return Ok((v, t.elapsed().as_micros() as u64)),
            Err(e) if attempt < 30 => {
                eprintln!("{what}: {e:?}; retrying in 2 s");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => anyhow::bail!("{what}: {e:?}"),
        }
    }
    unreachable!("the loop returns")
}

async fn measure(args: &Args, database: &str, p: &Province) -> anyhow::Result<()> {
    let u = url(database);
    let registry_pool = zoufang_core::db::connect_and_migrate(
        &u,
        zoufang_registry::SCHEMA,
        4,
        &zoufang_registry::app::MIGRATOR,
    )
    .await?;
    let issues_pool = zoufang_core::db::connect_and_migrate(
        &u,
        zoufang_issues::SCHEMA,
        4,
        &zoufang_issues::app::MIGRATOR,
    )
    .await?;
    let supervision_pool = zoufang_core::db::connect_and_migrate(
        &u,
        zoufang_supervision::SCHEMA,
        4,
        &zoufang_supervision::app::MIGRATOR,
    )
    .await?;
    let registry = zoufang_registry::ops::State::new(
        registry_pool.clone(),
        PiiCipher::new(&PiiKey::dev()),
        zoufang_core::clock::Clock::system(),
    );
    let issues = zoufang_issues::ops::State {
        pool: issues_pool,
        settings: Default::default(),
        clock: zoufang_core::clock::Clock::system(),
    };
    let supervision = zoufang_supervision::ops::State {
        pool: supervision_pool,
        registry: tonic::transport::Channel::from_static("http://127.0.0.1:9").connect_lazy(),
        // Never called here: the bench records visits, it reads no phones.
        exchange: Arc::new(zoufang_core::auth::exchange::TokenExchange::new(
            "http://127.0.0.1:9/internal/token",
            "supervision",
            &zoufang_core::auth::exchange::dev_service_secret("supervision"),
        )?),
        clock: zoufang_core::clock::Clock::system(),
    };

    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT 'registry.households', count(*) FROM registry.households
         UNION ALL SELECT 'registry.visits', count(*) FROM registry.visits
         UNION ALL SELECT 'registry.visit_items', count(*) FROM registry.visit_items
         UNION ALL SELECT 'issues.issues', count(*) FROM issues.issues
         UNION ALL SELECT 'supervision.callbacks', count(*) FROM supervision.callbacks
         UNION ALL SELECT 'open callbacks', count(*) FROM supervision.callbacks WHERE state = 'open'",
    )
    .fetch_all(&registry_pool)
    .await?;
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&registry_pool)
        .await?;
    println!("database {database}: {:.1} GB", size as f64 / 1e9);
    for (table, n) in counts {
        println!("  {table:<22} {n:>11}");
    }

    let mut r = Rng::seeded(args.seed ^ 0x5eed);
    let labels = [
        "baseline",
        "township coverage",
        "county coverage",
        "township ledger",
        "county ledger",
        "worklist page",
    ];
    let mut samples: Vec<Samples> = labels.iter().map(|_| Samples::default()).collect();
    let warmup = 5.min(args.reps);
    let mut rows_seen = [0usize; 6];
    for rep in 0..args.reps + warmup {
        let keep = rep >= warmup;
        let mut record = |k: usize, (rows, us): (usize, u64)| {
            if keep {
                samples[k].us.push(us);
                rows_seen[k] += rows;
            }
        };
        // Baseline: one household by primary key.
        let v = &p.villages[r.below(p.villages.len() as u64) as usize];
        let h = v.first + r.below(v.households.max(1));
        record(
            0,
            timed(labels[0], || async {
                sqlx::query_scalar::<_, String>(
                    "SELECT head_name FROM households WHERE county = $1 AND household_id = $2",
                )
                .bind(&v.code[..6])
                .bind(p.household_id(h))
                .fetch_optional(&registry_pool)
                .await
                .map(|row| usize::from(row.is_some()))
            })
            .await?,
        );

        let township = &p.townships[r.below(p.townships.len() as u64) as usize];
        let county = &p.counties[township.county];
        let admin = claims("bench-admin", roles::COUNTY_ADMIN, &county.code);
        let req = GetRegionProgressRequest {
            campaign_id: county.campaign_id.to_string(),
            region_code: township.code.clone(),
            zone_id: String::new(),
        };
        record(
            1,
            timed(labels[1], || async {
                zoufang_registry::ops::progress::region(&registry, &admin, req.clone())
                    .await
                    .map(|r| r.children.len())
            })
            .await?,
        );

        let county = &p.counties[r.below(p.counties.len() as u64) as usize];
        let admin = claims("bench-admin", roles::COUNTY_ADMIN, &county.code);
        let req = GetRegionProgressRequest {
            campaign_id: county.campaign_id.to_string(),
            region_code: format!("{}000000", county.code),
            zone_id: String::new(),
        };
        record(
            2,
            timed(labels[2], || async {
                zoufang_registry::ops::progress::region(&registry, &admin, req.clone())
                    .await
                    .map(|r| r.children.len())
            })
            .await?,
        );

        let township = &p.townships[r.below(p.townships.len() as u64) as usize];
        let county = &p.counties[township.county];
        let admin = claims("bench-admin", roles::COUNTY_ADMIN, &county.code);
        let req = GetIssueStatisticsRequest {
            region_code: township.code[..9].to_owned(),
            campaign_id: county.campaign_id.to_string(),
        };
        record(
            3,
            timed(labels[3], || async {
                zoufang_issues::ops::query::statistics(&issues, &admin, req.clone())
                    .await
                    .map(|s| s.collected as usize)
            })
            .await?,
        );

        let county = &p.counties[r.below(p.counties.len() as u64) as usize];
        let admin = claims("bench-admin", roles::COUNTY_ADMIN, &county.code);
        let req = GetIssueStatisticsRequest {
            region_code: county.code.clone(),
            campaign_id: county.campaign_id.to_string(),
        };
        record(
            4,
            timed(labels[4], || async {
                zoufang_issues::ops::query::statistics(&issues, &admin, req.clone())
                    .await
                    .map(|s| s.collected as usize)
            })
            .await?,
        );

        let county = &p.counties[r.below(p.counties.len() as u64) as usize];
        let supervisor = claims(
            r.pick(&county.supervisors).as_str(),
            roles::SUPERVISOR,
            &county.code,
        );
        let req = ListWorklistRequest {
            page_size: 0,
            overdue_only: false,
        };
        record(
            5,
            timed(labels[5], || async {
                zoufang_supervision::ops::callbacks::worklist(&supervision, &supervisor, req)
                    .await
                    .map(|page| page.callbacks.len())
            })
            .await?,
        );
    }

    let (b50, b95, b99) = samples[0].quantiles();
    let n = args.reps.max(1) as f64;
    println!(
        "\n{} repetitions each over random townships, counties and supervisors (after {warmup} warm-up):",
        args.reps
    );
    println!(
        "{:<20} {:>8} {:>8} {:>8} {:>8}  {:>10}  {:>11}  per answer",
        "query", "target", "p50 ms", "p95 ms", "p99 ms", "p50/base", "p95/base"
    );
    println!(
        "{:<20} {:>8} {b50:>8.2} {b95:>8.2} {b99:>8.2}  {:>10}  {:>11}  1 household by primary key",
        "baseline", "", "1.0", "1.0"
    );
    let targets = [0.0, 50.0, 200.0, 50.0, 200.0, 20.0];
    let what = [
        "",
        "villages (rows)",
        "townships (rows)",
        "ledger items counted",
        "ledger items counted",
        "callbacks on the page",
    ];
    for k in 1..6 {
        let (q50, q95, q99) = samples[k].quantiles();
        let verdict = if q95 <= targets[k] { "met" } else { "MISSED" };
        println!(
            "{:<20} {:>5.0} ms {q50:>8.2} {q95:>8.2} {q99:>8.2}  {:>9.1}×  {:>10.1}×  {:.0} {} — p95 {verdict}",
            labels[k],
            targets[k],
            q50 / b50.max(1e-3),
            q95 / b95.max(1e-3),
            rows_seen[k] as f64 / n,
            what[k],
        );
    }
    Ok(())
}

/// What a database was loaded with, kept in it so `--database` measures
/// against the same generated province.
async fn loaded_params(
    database: &str,
) -> anyhow::Result<Option<(u64, u64, u64, Option<usize>, u64)>> {
    let mut conn = connect(database).await?;
    let present: bool =
        sqlx::query_scalar("SELECT to_regclass('public.bench_scale_params') IS NOT NULL")
            .fetch_one(&mut conn)
            .await?;
    if !present {
        return Ok(None);
    }
    let row: Option<(i64, i64, i64, Option<i32>, i64)> = sqlx::query_as(
        "SELECT households, visits, items, counties, seed FROM public.bench_scale_params",
    )
    .fetch_optional(&mut conn)
    .await?;
    Ok(row.map(|(h, v, i, c, s)| {
        (
            h as u64,
            v as u64,
            i as u64,
            c.map(|c| c as usize),
            s as u64,
        )
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    let now = chrono::Utc::now().timestamp();
    let reuse = args.database.is_some();
    let database = args
        .database
        .clone()
        .unwrap_or_else(|| unique_name("zfscale"));

    let mut admin = connect("postgres").await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&database)
            .fetch_one(&mut admin)
            .await?;
    let params = if exists {
        loaded_params(&database).await?
    } else {
        None
    };
    if let Some((households, visits, items, counties, seed)) = params {
        println!(
            "database {database}: already loaded (--households {households} --visits {visits} \
             --items {items}{} --seed {seed}), measuring only",
            counties
                .map(|c| format!(" --counties {c}"))
                .unwrap_or_default()
        );
        (
            args.households,
            args.visits,
            args.items,
            args.counties,
            args.seed,
        ) = (households, visits, items, counties, seed);
    }
    let p = Arc::new(Province::generate(
        args.seed,
        args.counties,
        args.households,
    ));
    if params.is_none() {
        load(&args, &database, &p, now).await?;
        let mut conn = connect(&database).await?;
        conn.execute(
            "CREATE TABLE public.bench_scale_params (households bigint, visits bigint, items bigint,
                counties integer, seed bigint)",
        )
        .await?;
        sqlx::query("INSERT INTO public.bench_scale_params VALUES ($1, $2, $3, $4, $5)")
            .bind(args.households as i64)
            .bind(args.visits as i64)
            .bind(args.items as i64)
            .bind(args.counties.map(|c| c as i32))
            .bind(args.seed as i64)
            .execute(&mut conn)
            .await?;
    }
    if !args.load_only {
        measure(&args, &database, &p).await?;
    }
    if args.keep || reuse {
        println!("kept database {database}");
    } else {
        admin
            .execute(AssertSqlSafe(format!(
                "DROP DATABASE \"{database}\" WITH (FORCE)"
            )))
            .await?;
        println!("dropped database {database}");
    }
    Ok(())
}
