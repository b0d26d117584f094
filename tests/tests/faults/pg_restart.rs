//! Faults: PostgreSQL restarts under a steady load of visits through the
//! gateway. The whole server stops (fast shutdown: every session of every
//! service is terminated mid-transaction), stays down about two seconds and
//! starts again; the load retries what failed with the same body (the same
//! visit_id). No service may exit: their pools, outbox relays, consumers,
//! LISTEN connections and sweepers must recover by themselves. Afterwards
//! every acknowledged visit, ledger item, assignment page and callback
//! exists exactly once (`zoufang_e2e::faults`). Requests that fail while the
//! database is away answer 503 (UNAVAILABLE), never 500.
//!
//! It restarts the PostgreSQL server of this machine: it runs in the binary
//! `faults`, alone (see `serial`). The server is started again when the
//! test ends, whether it passes or not.
use std::{
    process::Command,
    time::{Duration, Instant},
};

use sqlx::Connection as _;
use zoufang_e2e::{
    faults::{Load, Receivers, check_deliveries, seed_households, verify_exactly_once},
    pg_server,
    procs::Stack,
};

/// Concurrent load workers, each recording a visit every `PERIOD`: 20/s in all.
const WORKERS: usize = 4;
const PERIOD: Duration = Duration::from_millis(200);
/// Households the load spreads its visits over (beside the seed's).
const HOUSEHOLDS: u32 = 30;
/// How long the server stays down.
const DOWN: Duration = Duration::from_secs(2);
/// How long the server may take to accept connections again, and the
/// services to answer `/readyz` again.
const RECOVERY: Duration = Duration::from_secs(60);

/// `pg_ctlcluster <version> main <action>` on this machine's one cluster
/// (the version is the one directory of `/etc/postgresql`).
fn pg_ctlcluster(action: &str) -> Result<(), String> {
    let version = std::fs::read_dir("/etc/postgresql")
        .map_err(|e| format!("/etc/postgresql: {e}"))?
        .filter_map(Result::ok)
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .next()
        .ok_or("no cluster in /etc/postgresql")?;
    let out = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .output()
        .map_err(|e| format!("pg_ctlcluster: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "pg_ctlcluster {version} main {action}: {} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Starts the server when dropped if it is not running (the test panicked
/// while it was down), so the machine is never left without PostgreSQL.
struct StartOnDrop;

impl Drop for StartOnDrop {
    fn drop(&mut self) {
        // `status` fails (exit 3) when the server is down.
        if pg_ctlcluster("status").is_ok() {
            return;
        }
        match pg_ctlcluster("start") {
            Ok(()) => eprintln!("pg_restart: started PostgreSQL again at the end"),
            Err(e) => eprintln!("pg_restart: starting PostgreSQL at the end: {e}"),
        }
    }
}

/// Waits until the server accepts connections again.
async fn wait_accepting(within: Duration) {
    let t0 = Instant::now();
    let url = format!("{}/postgres", pg_server());
    loop {
        match sqlx::PgConnection::connect(&url).await {
            Ok(conn) => {
                let _ = conn.close().await;
                return;
            }
            Err(e) => assert!(
                t0.elapsed() < within,
                "PostgreSQL did not accept connections within {within:?}: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Panics naming every service process that has exited.
fn assert_all_running(stack: &mut Stack, when: &str) {
    let exited: Vec<String> = stack
        .procs_mut()
        .into_iter()
        .filter_map(|p| {
            p.exit_status()
                .map(|s| format!("{} ({s}):\n{}", p.name, p.tail(20)))
        })
        .collect();
    assert!(
        exited.is_empty(),
        "services exited {when}:\n{}",
        exited.join("\n")
    );
}

/// Waits until every service answers `/readyz` 200 (its pool reaches the
/// database again); how long it took.
async fn wait_ready(stack: &Stack, within: Duration) -> Duration {
    let t0 = Instant::now();
    for proc in stack.procs() {
        let url = format!("http://127.0.0.1:{}/readyz", proc.admin_port());
        loop {
            let status = stack
                .http()
                .get(&url)
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .map(|r| r.status().as_u16());
            if matches!(status, Ok(200)) {
                break;
            }
            assert!(
                t0.elapsed() < within,
                "{} not ready {within:?} after the restart: {status:?}",
                proc.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    t0.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restarting_postgres_under_load_loses_and_doubles_nothing() {
    let _serial = crate::serial().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t_start = Instant::now();
    // notify pages through fake receivers: what they get is checked too.
    let receivers = Receivers::start().await;
    let mut stack = Stack::start_with(receivers.stack_options()).await;
    eprintln!(
        "pg_restart: stack up in {:.1} s (with the harness's build check and cleanup)",
        t_start.elapsed().as_secs_f64()
    );
    let admin = stack.admin_token().await;
    let (seed, households) = seed_households(&stack, &admin, HOUSEHOLDS).await;
    receivers.subscribe(&stack, &admin, &seed).await;

    // The load: 20 visits a second through the gateway.
    let load = Load::start(&stack, &admin, &seed, &households, WORKERS, PERIOD);
    tokio::time::sleep(Duration::from_secs(3)).await;

    // The restart: stop (fast: sessions terminated), ~2 s down, start.
    let _running_at_the_end = StartOnDrop;
    let t_stop = Instant::now();
    tokio::task::spawn_blocking(|| pg_ctlcluster("stop"))
        .await
        .expect("pg_ctlcluster")
        .unwrap_or_else(|e| panic!("stopping PostgreSQL: {e}"));
    let stopped_in = t_stop.elapsed();
    tokio::time::sleep(DOWN).await;
    let t_start_pg = Instant::now();
    tokio::task::spawn_blocking(|| pg_ctlcluster("start"))
        .await
        .expect("pg_ctlcluster")
        .unwrap_or_else(|e| panic!("starting PostgreSQL: {e}"));
    wait_accepting(RECOVERY).await;
    let accepting_in = t_start_pg.elapsed();
    let failed_during = load.failures();
    eprintln!(
        "pg_restart: PostgreSQL stopped in {:.1} s, down {:.1} s, accepting {:.1} s after the start ({:.1} s in all); {failed_during} requests failed so far",
        stopped_in.as_secs_f64(),
        DOWN.as_secs_f64(),
        accepting_in.as_secs_f64(),
        t_stop.elapsed().as_secs_f64()
    );
    let ready_in = wait_ready(&stack, RECOVERY).await;
    eprintln!(
        "pg_restart: every service ready again {:.1} s after PostgreSQL accepted connections",
        ready_in.as_secs_f64()
    );

    // The load goes on a while after the restart, then stops.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let loaded = load.stop().await;
    eprintln!(
        "pg_restart: load stopped after {:.1} s: {} visits, {} requests, {} failed and retried, {} waited",
        loaded.secs,
        loaded.visits.len(),
        loaded.attempts,
        loaded.failures,
        loaded.waited
    );
    eprintln!(
        "pg_restart: failed requests by answer: {:?}",
        loaded.failed_with
    );
    // The outage was felt: requests failed (and were retried) or waited
    // it out.
    assert!(
        loaded.failures + loaded.waited > 0,
        "no request failed or waited while PostgreSQL was down: the load never met the fault"
    );
    // A database that is away is not the request's fault: the services
    // answer UNAVAILABLE, the gateway 503, and the client retries. Any
    // other answer (a 500, a 502, no answer at all) fails the test.
    let not_503: Vec<_> = loaded
        .failed_with
        .iter()
        .filter(|(answer, _)| answer.as_str() != "503")
        .collect();
    assert!(
        not_503.is_empty(),
        "requests failed with something other than 503 while PostgreSQL restarted: {not_503:?} (all failures: {:?})",
        loaded.failed_with
    );
    assert_all_running(&mut stack, "after the restart");
    // Lower than faults_kill's 5/s: requests wait out the whole outage.
    loaded.assert_rate(3.0);

    // Quiet, then every visit, ledger item, page and callback exactly once.
    let pool = stack.pool().await;
    let counts = verify_exactly_once(&pool, &loaded.visits, Duration::from_secs(90)).await;
    let delivered = check_deliveries(
        &pool,
        &receivers,
        &seed,
        &loaded.visits,
        Duration::from_secs(90),
    )
    .await;
    eprintln!("pg_restart: deliveries {delivered:?}");
    assert_all_running(&mut stack, "while the services caught up");
    eprintln!(
        "pg_restart: restarts 1; {counts}; requests {}, failed {}; quiet {:.1} s; total {:.1} s",
        loaded.attempts,
        loaded.failures,
        counts.quiet_secs,
        t_start.elapsed().as_secs_f64()
    );
    drop(pool);
    stack.stop().await;
}
