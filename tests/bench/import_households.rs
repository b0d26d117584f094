//! Benchmark: importing N households (default 100 000) through the gateway
//! from an XLSX and from a CSV file, end to end — upload, read, check,
//! RegisterHouseholds batches, encryption, outbox — against a baseline
//! measured in the same run on the same database: PostgreSQL COPY of the
//! same number of rows of the same width into a scratch table with the
//! same keys. The ratio survives a noisy, shared machine.
//!
//! ```sh
//! cargo run --release -p zoufang-e2e --bin bench-import -- --rows 100000
//! ```
use std::time::{Duration, Instant};

use clap::Parser;
use rust_xlsxwriter::Workbook;
use serde_json::Value;
use zoufang_e2e::{fixtures, gateway::TestGateway};

/// Measures household imports through the gateway against a COPY baseline.
#[derive(Debug, Parser)]
struct Args {
    /// Rows per file.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
}

const HEADER: [&str; 8] = [
    "户主姓名",
    "身份证号码",
    "联系电话",
    "所属村",
    "村民小组",
    "家庭住址",
    "家庭人口",
    "标签",
];
const VILLAGES: [&str; 3] = ["黄龙村", "肖家村", "桃源村"];
const SURNAMES: [&str; 8] = ["唐", "周", "肖", "李", "王", "陈", "刘", "谭"];

/// Row `i` of a file whose ID numbers start at `offset` (unique up to 20M).
fn row(i: usize, offset: usize) -> [String; 8] {
    let n = i + offset;
    let birth = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).expect("date")
        + chrono::Days::new((n / 1000) as u64);
    [
        format!(
            "{}{}",
            SURNAMES[n % SURNAMES.len()],
            ["怀珠", "飞好", "家强", "春梅"][n % 4]
        ),
        fixtures::id_number(&birth.format("%Y%m%d").to_string(), (n % 1000) as u32),
        format!("139{:08}", n % 100_000_000),
        VILLAGES[n % VILLAGES.len()].to_owned(),
        format!("{}组", n % 12 + 1),
        format!("{}号", n % 500 + 1),
        (n % 6 + 1).to_string(),
        ["", "低保", "留守、空巢老人", ""][n % 4].to_owned(),
    ]
}

fn xlsx(rows: usize, offset: usize) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    for i in 0..rows {
        for (c, v) in row(i, offset).iter().enumerate() {
            sheet.write_string(i as u32 + 1, c as u16, v)?;
        }
    }
    Ok(book.save_to_buffer()?)
}

fn csv(rows: usize, offset: usize) -> Vec<u8> {
    let mut out = HEADER.join(",");
    out.push('\n');
    for i in 0..rows {
        out.push_str(&row(i, offset).join(","));
        out.push('\n');
    }
    out.into_bytes()
}

/// Uploads a file and waits for the job; (seconds, final job).
async fn import(
    stack: &TestGateway,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> anyhow::Result<(f64, Value)> {
    let started = Instant::now();
    let resp = stack
        .http()
        .post(stack.url("/v1/import/households?mode=good_rows_only"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(resp.status().as_u16() == 202, "upload: {}", resp.status());
    let job: Value = resp.json().await?;
    let path = format!(
        "/v1/import/{}?errors_limit=5",
        job["job_id"].as_str().unwrap_or("")
    );
    let mut last_phase = String::new();
    loop {
        let (_, job) = stack.get(&path, Some(token)).await;
        let phase = job["phase"].as_str().unwrap_or("").to_owned();
        if phase != last_phase {
            println!(
                "    {:>6.2} s  {phase} ({} of {} rows processed)",
                started.elapsed().as_secs_f64(),
                job["rows_processed"],
                job["rows_total"]
            );
            last_phase = phase;
        }
        if job["state"] != "running" {
            return Ok((started.elapsed().as_secs_f64(), job));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// COPY of `rows` rows shaped like households (ciphertexts, keyed hashes,
/// text) into a scratch table with the same primary and unique keys.
async fn copy_baseline(pool: &sqlx::PgPool, rows: usize) -> anyhow::Result<f64> {
    sqlx::query("DROP TABLE IF EXISTS public.bench_import_baseline")
        .execute(pool)
        .await?;
    sqlx::query(
        "CREATE TABLE public.bench_import_baseline (county char(6), household_id uuid,
            village_code char(12), group_name text, address text, head_name text,
            id_number_cipher bytea, id_number_hash bytea, phone_cipher bytea, phone_hash bytea,
            member_count integer, open_tags text[], body_hash bytea,
            PRIMARY KEY (county, household_id), UNIQUE (county, id_number_hash))",
    )
    .execute(pool)
    .await?;
    let hex = |n: usize, len: usize| {
        let mut s = String::from("\\\\x");
        for k in 0..len {
            s.push_str(&format!("{:02x}", (n * 31 + k * 7) % 256));
        }
        s.push_str(&format!("{n:016x}"));
        s
    };
    let mut data = String::new();
    for i in 0..rows {
        let r = row(i, 0);
        data.push_str(&format!(
            "430426\t{}\t430426104201\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{{}}\t{}\n",
            uuid::Uuid::now_v7(),
            r[4],
            r[5],
            r[0],
            hex(i, 46),
            hex(i, 24),
            hex(i + 1, 39),
            hex(i + 2, 24),
            r[6],
            hex(i + 3, 24),
        ));
    }
    let started = Instant::now();
    let mut conn = pool.acquire().await?;
    let mut copy = conn
        .copy_in_raw("COPY public.bench_import_baseline FROM STDIN")
        .await?;
    copy.send(data.as_bytes()).await?;
    copy.finish().await?;
    Ok(started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let stack = TestGateway::start().await;
    let admin = stack.admin_token().await;
    let mut regions = fixtures::region_csv().into_bytes();
    regions.push(b'\n');
    let resp = stack
        .http()
        .post(stack.url("/v1/import/regions?wait=true"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(regions)
        .send()
        .await?;
    anyhow::ensure!(resp.status().is_success(), "regions: {}", resp.status());
    let town = stack
        .account(
            &admin,
            "bench-town",
            &["township_admin"],
            "430426104",
            "bench-town",
        )
        .await;

    let n = args.rows;
    println!("generating {n} rows as XLSX and CSV …");
    let book = xlsx(n, 0)?;
    let text = csv(n, 10_000_000);
    println!(
        "  xlsx {:.1} MB, csv {:.1} MB",
        book.len() as f64 / 1e6,
        text.len() as f64 / 1e6
    );

    let mut results = Vec::new();
    for (label, ct, body) in [
        (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            book,
        ),
        ("csv", "text/csv", text),
    ] {
        println!("import {label}:");
        let (secs, job) = import(&stack, &town, ct, body).await?;
        anyhow::ensure!(
            job["state"] == "done" && job["rows_imported"].as_u64() == Some(n as u64),
            "import {label} did not import every row: {job}"
        );
        results.push((label, secs));
    }
    let registered: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(&stack.registry.pool)
        .await?;
    let baseline = copy_baseline(&stack.registry.pool, n).await?;

    println!("households import through the gateway, {n} rows per file ({registered} registered):");
    for (label, secs) in &results {
        println!(
            "  {label:<5} {secs:>7.2} s  {:>9.0} rows/s   ratio to COPY {:>5.1}x",
            n as f64 / secs,
            secs / baseline
        );
    }
    println!(
        "baseline: COPY of {n} household-shaped rows (same keys) {baseline:.2} s  {:.0} rows/s",
        n as f64 / baseline
    );
    sqlx::query("DROP TABLE IF EXISTS public.bench_import_baseline")
        .execute(&stack.registry.pool)
        .await?;
    stack.stop().await;
    Ok(())
}
