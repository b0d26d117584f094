//! What the benchmark programs share: percentiles and the pgbench baseline.
use std::process::Command;

use zoufang_e2e::{pg_server, unique_name};

/// The `p` quantile of sorted microsecond samples, in milliseconds.
pub fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// pgbench: single-row INSERTs (with a uuid key, like a visit) at `clients`.
pub fn pgbench_baseline(database: &str, clients: usize, seconds: u64) -> anyhow::Result<f64> {
    let url = format!("{}/{database}", pg_server());
    let psql = Command::new("psql")
        .args([&url, "-qc", "CREATE TABLE IF NOT EXISTS public.bench_baseline (county char(6), id uuid, body text, at timestamptz DEFAULT now(), PRIMARY KEY (county, id))"])
        .output()?;
    anyhow::ensure!(
        psql.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&psql.stderr)
    );
    let script = std::env::temp_dir().join(format!("{}.sql", unique_name("zfbench")));
    std::fs::write(
        &script,
        "INSERT INTO public.bench_baseline (county, id, body) VALUES ('430426', gen_random_uuid(), repeat('x', 200));\n",
    )?;
    let out = Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-f",
        ])
        .arg(&script)
        .arg(&url)
        .output()?;
    let _ = std::fs::remove_file(&script);
    anyhow::ensure!(
        out.status.success(),
        "pgbench: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| {
            l.trim_start_matches("tps = ")
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .ok_or_else(|| anyhow::anyhow!("no tps in pgbench output: {text}"))
}
