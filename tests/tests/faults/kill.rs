//! Faults: under a steady load of recorded visits through the gateway, each
//! consumer service (the ledger, supervision, notify) and then the registry
//! is killed with SIGKILL — no drain, no flush, mid-transaction — and a new
//! process of the same binary is started on the same ports and queue.
//! Afterwards every visit the load recorded is in the registry once, each of
//! its raised items is in the ledger once, each assignment pages its cadre
//! once, and supervision has at most one callback per sampled subject, with
//! its per-cadre sampling counter equal to its visit callbacks: nothing lost,
//! nothing doubled.
use std::time::{Duration, Instant};

use zoufang_e2e::{
    faults::{Load, Receivers, check_deliveries, seed_households, verify_exactly_once},
    procs::{Proc, Stack},
};

/// Concurrent load workers, each recording a visit every `PERIOD`: 20/s in all.
const WORKERS: usize = 4;
const PERIOD: Duration = Duration::from_millis(200);
/// Households the load spreads its visits over (beside the seed's).
const HOUSEHOLDS: u32 = 30;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_each_service_under_load_loses_and_doubles_nothing() {
    let _serial = crate::serial().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t_start = Instant::now();
    // notify pages through fake receivers: what they get is checked too.
    let receivers = Receivers::start().await;
    let mut stack = Stack::start_with(receivers.stack_options()).await;
    let t_seed = Instant::now();
    eprintln!(
        "faults: stack up in {:.1} s (with the harness's build check and cleanup)",
        t_start.elapsed().as_secs_f64()
    );
    let admin = stack.admin_token().await;
    let (seed, households) = seed_households(&stack, &admin, HOUSEHOLDS).await;
    receivers.subscribe(&stack, &admin, &seed).await;
    eprintln!("faults: seeded in {:.1} s", t_seed.elapsed().as_secs_f64());

    // The load: 20 visits a second through the gateway.
    let load = Load::start(&stack, &admin, &seed, &households, WORKERS, PERIOD);

    // Each consumer in turn, then the registry: kill -9, down ~1.5 s, back.
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
    let loaded = load.stop().await;
    eprintln!(
        "faults: load stopped after {:.1} s: {} visits, {} requests, {} failed and retried",
        loaded.secs,
        loaded.visits.len(),
        loaded.attempts,
        loaded.failures
    );
    loaded.assert_rate(5.0);

    // Quiet, then every visit, ledger item, page and callback exactly once.
    let pool = stack.pool().await;
    let counts = verify_exactly_once(&pool, &loaded.visits, Duration::from_secs(60)).await;
    let delivered = check_deliveries(
        &pool,
        &receivers,
        &seed,
        &loaded.visits,
        Duration::from_secs(60),
    )
    .await;
    eprintln!("faults: deliveries {delivered:?}");
    // The registry's kill was felt: requests failed while it was down.
    assert!(
        loaded.failures > 0,
        "no request failed although the registry was killed under load: {:?}",
        loaded.failed_with
    );
    eprintln!(
        "faults: kills {kills}; {counts}; requests {}, failed {}; total {:.1} s",
        loaded.attempts,
        loaded.failures,
        t_start.elapsed().as_secs_f64()
    );
    drop(pool);
    stack.stop().await;
}
