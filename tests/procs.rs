//! The real binaries as separate processes, for end-to-end tests that must
//! see what an operator sees: each service started from
//! `target/debug/<name>` with its configuration in the environment, on a
//! fresh database, with its own queues, on ports it picks itself (port 0;
//! the harness reads the bound addresses from the service's `listening` log
//! line), ready once `/readyz` answers; its stdout and stderr in
//! `target/test-logs/<database>-<name>.log`; stopped with SIGTERM (then
//! SIGKILL after a grace) when the test ends.
//!
//! ```ignore
//! let stack = Stack::start().await;                 // every service + the gateway
//! let admin = stack.admin_token().await;            // bootstrap admin over HTTP
//! let seed = stack.seed(&admin).await;              // regions, cadre, campaign, households
//! stack.rpc(&admin, "registry", "RecordVisit", &fixtures::visit_request(&seed, &seed.household_ids[0])).await;
//! let pool = stack.pool().await;                    // read notify.notifications, issues.issues …
//! stack.stop().await;                               // SIGTERM, wait, delete the queues
//! ```
//!
//! The harness builds the service binaries once per test process
//! (`cargo build --bins -p <the six services>`, a no-op when they are up to
//! date), so plain `cargo test` works and never runs binaries older than the
//! sources. `ZF_TEST_PREBUILT=1` skips the build when every binary exists.
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use zoufang_bus::consumer::default_retry_delays;
use zoufang_core::{
    auth::{DEV_JWT_PRIVATE_KEY_PEM, DEV_JWT_PUBLIC_KEY_PEM, exchange},
    pii::DEV_PII_KEY_HEX,
};

use crate::{amqp_url, pg_server, unique_name};

/// The bootstrap admin's password of a [`Stack`]'s gateway (after the
/// required first change, which [`Stack::start_with`] does).
pub const ADMIN_PASSWORD: &str = crate::gateway::ADMIN_PASSWORD;

/// The service binaries, in the order a [`Stack`] starts them.
pub const SERVICES: [&str; 6] = [
    "registry",
    "issues",
    "supervision",
    "notify",
    "petition",
    "gateway",
];

/// How long a process may take to log its addresses and answer `/readyz`
/// (migrations on a busy two-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a process gets to exit after SIGTERM before SIGKILL. The
/// services are started with `SHUTDOWN_GRACE_SECS=5`.
const STOP_GRACE: Duration = Duration::from_secs(20);

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

/// The target directory: `CARGO_TARGET_DIR` (taken relative to the workspace
/// root when relative) or `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        _ => workspace_root().join("target"),
    }
}

/// Where process logs go: `<target>/test-logs/`.
pub fn log_dir() -> PathBuf {
    target_dir().join("test-logs")
}

/// Whether the harness runs release binaries (benchmarks) instead of the
/// debug ones the tests use. Set once, before the first process starts.
static RELEASE: OnceLock<bool> = OnceLock::new();

/// Makes every process of this program a release build (`target/release`,
/// built with `--release`): a benchmark measures what an operator runs, not
/// the debug build. Call before the first [`Proc::start`].
pub fn use_release_binaries() {
    let release = *RELEASE.get_or_init(|| true);
    assert!(
        release,
        "procs: use_release_binaries() after a debug binary was started"
    );
}

/// `release` or `debug`: the profile of the binaries this program runs.
fn profile() -> &'static str {
    if *RELEASE.get_or_init(|| false) {
        "release"
    } else {
        "debug"
    }
}

/// The path of a service binary (debug build unless
/// [`use_release_binaries`]), built first if needed: see [`ensure_built`].
pub fn binary(name: &str) -> PathBuf {
    ensure_built();
    let path = target_dir().join(profile()).join(name);
    assert!(
        path.is_file(),
        "procs: {} does not exist after building",
        path.display()
    );
    path
}

/// Builds the six service binaries, once per test process. Cargo waits for
/// other builds holding the target directory and does nothing when the
/// binaries are up to date, so a test never runs a binary older than the
/// sources. With `ZF_TEST_PREBUILT=1` and every binary present, nothing runs.
pub fn ensure_built() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let result = BUILT.get_or_init(|| {
        let dir = target_dir().join(profile());
        let missing: Vec<&str> = SERVICES
            .iter()
            .copied()
            .filter(|s| !dir.join(s).is_file())
            .collect();
        if std::env::var("ZF_TEST_PREBUILT").is_ok_and(|v| v == "1") && missing.is_empty() {
            return Ok(());
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut args = vec!["build".to_owned(), "--bins".to_owned()];
        if profile() == "release" {
            args.push("--release".to_owned());
        }
        for s in SERVICES {
            args.extend(["-p".to_owned(), format!("zoufang-{s}")]);
        }
        args.extend([
            "--target-dir".to_owned(),
            target_dir().display().to_string(),
        ]);
        eprintln!(
            "procs: building the service binaries ({}): {cargo} {}",
            if missing.is_empty() {
                "checking they are up to date".to_owned()
            } else {
                format!("missing: {}", missing.join(", "))
            },
            args.join(" ")
        );
        let t0 = Instant::now();
        // Cargo's own output goes to the terminal (stderr), so a long build shows progress.
        let mut command = Command::new(&cargo);
        // Not the variables `cargo test` set for this test: build scripts
        // watch some (ring's watches CARGO_PKG_NAME, CARGO_MANIFEST_DIR …), so
        // with them every build here and every build from a shell would
        // rebuild ring, rustls and everything above them in turn.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("CARGO_PKG_")
                || key.starts_with("CARGO_BIN_")
                || key.starts_with("CARGO_MANIFEST_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                    "OUT_DIR",
                ]
                .contains(&key.as_ref())
            {
                command.env_remove(key.as_ref());
            }
        }
        let status = command
            .args(&args)
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .status();
        match status {
            Ok(s) if s.success() => {
                eprintln!(
                    "procs: binaries ready in {:.1} s",
                    t0.elapsed().as_secs_f64()
                );
                Ok(())
            }
            Ok(s) => Err(format!("`{cargo} {}` failed ({s})", args.join(" "))),
            Err(e) if missing.is_empty() => {
                eprintln!(
                    "procs: cannot run {cargo} ({e}); using the binaries in {}",
                    dir.display()
                );
                Ok(())
            }
            Err(e) => Err(format!(
                "cannot run {cargo} to build the missing binaries {missing:?}: {e}"
            )),
        }
    });
    if let Err(e) = result {
        panic!("procs: the service binaries could not be built: {e}");
    }
}

/// A process's environment, by variable name (later settings win).
#[derive(Debug, Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// What every service reads: the database `database` on the test
    /// PostgreSQL, the test RabbitMQ, the development public key and
    /// personal-data key given explicitly (so [`crate::token`] mints tokens
    /// the services accept, without development mode), the admin endpoints
    /// on port 0, a small pool and a short shutdown grace.
    pub fn common(database: &str) -> Self {
        Self::default()
            .with("DATABASE_URL", format!("{}/{database}", pg_server()))
            .with("AMQP_URL", amqp_url())
            .with("ZF_JWT_PUBLIC_KEY", DEV_JWT_PUBLIC_KEY_PEM)
            .with("ZF_PII_KEY", DEV_PII_KEY_HEX)
            .with("ADMIN_ADDR", "127.0.0.1:0")
            .with("DB_MAX_CONNECTIONS", "4")
            .with("SHUTDOWN_GRACE_SECS", "5")
    }

    /// Sets `key` to `value`.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// Sets `key` to `value`.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Adds every variable of `other`, replacing those set here.
    pub fn extend(&mut self, other: &Env) -> &mut Self {
        self.0
            .extend(other.0.iter().map(|(k, v)| (k.clone(), v.clone())));
        self
    }
}

/// A port free at the moment (bound and released): for a process that must
/// be told another's address before that one starts. It is taken below the
/// kernel's ephemeral range: a port from that range (what binding port 0
/// gives) can be handed again to the next process that binds port 0 before
/// the one it was meant for starts — the campaign test's gateway once found
/// its admin port taken by the ledger's.
pub fn free_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let span = u32::from(low.saturating_sub(10_000)).max(1);
    for _ in 0..200 {
        let n = u32::from_le_bytes(
            uuid::Uuid::new_v4().as_bytes()[..4]
                .try_into()
                .expect("4 bytes"),
        );
        let port = 10_000 + u16::try_from(n % span).expect("below the ephemeral range");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below {low} after 200 tries")
}

/// The addresses a binary logs when it listens, by field name: `grpc` and
/// `admin` (every gRPC service, message `listening`), `webhook` (petition,
/// `petition webhook listening`), `http` and `admin` (gateway, `gateway
/// listening`).
fn expected_addresses(name: &str) -> &'static [&'static str] {
    match name {
        "gateway" => &["http", "admin"],
        "petition" => &["grpc", "admin", "webhook"],
        _ => &["grpc", "admin"],
    }
}

/// A running service binary.
#[derive(Debug)]
pub struct Proc {
    /// The binary's name (`registry`, …, `gateway`).
    pub name: String,
    /// Its stdout and stderr.
    pub log: PathBuf,
    /// The environment it was started with.
    pub env: Env,
    /// The addresses it listens on, by log field (`grpc`, `admin`, `http`, `webhook`).
    pub addrs: BTreeMap<String, SocketAddr>,
    child: Option<Child>,
}

impl Proc {
    /// Starts binary `name` with exactly `env` (plus PATH, HOME, TZ, LANG and
    /// `RUST_BACKTRACE=1`; nothing else is inherited, so a developer's
    /// DATABASE_URL or OTEL_EXPORTER_OTLP_ENDPOINT cannot leak in), its
    /// output in `<target>/test-logs/<tag>-<name>.log`; returns once it has
    /// logged its addresses and `/readyz` answers 200. Panics with the log's
    /// tail if it exits or is not ready within two minutes.
    ///
    /// Keep `RUST_LOG` at `info` or more for `zoufang_service::server`,
    /// `zoufang_gateway::app` and `zoufang_petition::app`: the addresses are
    /// read from their log lines.
    pub async fn start(name: &str, tag: &str, env: Env) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let binary = binary(name);
        std::fs::create_dir_all(log_dir()).expect("create target/test-logs");
        let log = log_dir().join(format!("{tag}-{name}.log"));
        let out = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("procs: cannot create {}: {e}", log.display()));
        let err = out.try_clone().expect("clone the log file handle");
        let mut cmd = Command::new(&binary);
        cmd.env_clear();
        for key in ["PATH", "HOME", "TZ", "LANG", "LC_ALL", "TMPDIR"] {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        cmd.env("RUST_BACKTRACE", "1")
            .envs(&env.0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("procs: cannot start {}: {e}", binary.display()));
        let mut proc = Self {
            name: name.to_owned(),
            log,
            env,
            addrs: BTreeMap::new(),
            child: Some(child),
        };
        proc.wait_ready().await;
        proc
    }

    async fn wait_ready(&mut self) {
        let t0 = Instant::now();
        let deadline = t0 + START_TIMEOUT;
        let wanted = expected_addresses(&self.name);
        while !wanted.iter().all(|k| self.addrs.contains_key(*k)) {
            self.fail_if_exited("before logging its addresses");
            if Instant::now() > deadline {
                self.fail(&format!(
                    "did not log its addresses {wanted:?} within {START_TIMEOUT:?} (found {:?})",
                    self.addrs
                ));
            }
            self.addrs = listening_addresses(&self.log);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let url = format!("http://127.0.0.1:{}/readyz", self.admin_port());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("http client");
        loop {
            self.fail_if_exited("before it was ready");
            let status = http.get(&url).send().await.map(|r| r.status().as_u16());
            if status.as_ref().is_ok_and(|s| *s == 200) {
                break;
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "{url} did not answer 200 within {START_TIMEOUT:?} (last: {status:?})"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!(
            "procs: {} ready in {:.1} s on {:?} (log {})",
            self.name,
            t0.elapsed().as_secs_f64(),
            self.addrs,
            self.log.display()
        );
    }

    fn fail_if_exited(&mut self, when: &str) {
        if let Some(child) = &mut self.child
            && let Ok(Some(status)) = child.try_wait()
        {
            self.child = None;
            self.fail(&format!("exited {when} ({status})"));
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        let tail = self.tail(40);
        self.stop_blocking();
        panic!(
            "procs: {} {why}\n--- last lines of {} ---\n{tail}",
            self.name,
            self.log.display()
        );
    }

    /// The port of the address logged as `key` (`grpc`, `admin`, `http`, `webhook`).
    pub fn port(&self, key: &str) -> u16 {
        self.addrs
            .get(key)
            .unwrap_or_else(|| panic!("procs: {} has no {key} address", self.name))
            .port()
    }

    /// Its gRPC port (not the gateway).
    pub fn grpc_port(&self) -> u16 {
        self.port("grpc")
    }

    /// Its admin port (`/healthz`, `/readyz`, `/metrics`).
    pub fn admin_port(&self) -> u16 {
        self.port("admin")
    }

    /// `http://127.0.0.1:<grpc port>`, for another service's `*_URL` or a client.
    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port())
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its exit status if it has exited on its own (a crash, an exit after
    /// an error); None while it runs, or once stopped by the harness.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// The last `lines` lines of its log.
    pub fn tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The whole log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it gracefully: SIGTERM, up to 20 s to exit (the service drains
    /// and flushes its spans), then SIGKILL. Its exit status, unless it had
    /// already been stopped.
    pub async fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        terminate(&child);
        let deadline = Instant::now() + STOP_GRACE;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                _ => {
                    eprintln!(
                        "procs: {} did not stop within {STOP_GRACE:?} of SIGTERM: killing it",
                        self.name
                    );
                    let _ = child.kill();
                    return child.wait().ok();
                }
            }
        }
    }

    /// Kills it with SIGKILL (`kill -9`: no drain, no flush, as a crash or
    /// an OOM kill would) and reaps it. Its exit status, unless it had
    /// already been stopped.
    pub fn kill9(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        child.wait().ok()
    }

    /// Starts the same binary again (after [`Proc::kill9`] or [`Proc::stop`])
    /// with the same environment, on the same ports as before (so whoever
    /// holds its URLs reaches the new process), its output in a new log
    /// (`<tag>.<n>-<name>.log`). Returns once it is ready, like [`Proc::start`].
    pub async fn restart(&mut self) {
        if self.child.is_some() {
            self.stop().await;
        }
        let mut env = self.env.clone();
        for (key, var) in [
            ("grpc", "GRPC_ADDR"),
            ("admin", "ADMIN_ADDR"),
            ("http", "HTTP_ADDR"),
            ("webhook", "WEBHOOK_ADDR"),
        ] {
            if let Some(addr) = self.addrs.get(key) {
                env.set(var, addr.to_string());
            }
        }
        let file = self
            .log
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let base = file
            .strip_suffix(".log")
            .unwrap_or(&file)
            .strip_suffix(&format!("-{}", self.name))
            .unwrap_or(&file)
            .to_owned();
        let tag = (1..)
            .map(|n| format!("{base}.{n}"))
            .find(|t| !log_dir().join(format!("{t}-{}.log", self.name)).exists())
            .expect("a free log name");
        let name = self.name.clone();
        *self = Self::start(&name, &tag, env).await;
    }

    /// [`Proc::stop`] without a runtime (for `Drop`).
    fn stop_blocking(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        terminate(&child);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.child.is_none() {
            return;
        }
        if std::thread::panicking() {
            eprintln!(
                "--- {} (still running when the test failed), last lines of {} ---\n{}",
                self.name,
                self.log.display(),
                self.tail(20)
            );
        }
        self.stop_blocking();
    }
}

/// Sends SIGTERM (through `kill(1)`: the crate forbids unsafe code).
fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Every address field of the `… listening` JSON log lines in `log`.
fn listening_addresses(log: &Path) -> BTreeMap<String, SocketAddr> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut found = BTreeMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let fields = &v["fields"];
        if !fields["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("listening"))
        {
            continue;
        }
        for key in ["grpc", "admin", "http", "webhook"] {
            if let Some(addr) = fields[key].as_str().and_then(|a| a.parse().ok()) {
                found.insert(key.to_owned(), addr);
            }
        }
    }
    found
}

/// Extra settings for a [`Stack`].
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// Added to every process's environment (e.g. `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub env: Env,
    /// Added to one service's environment, by binary name (wins over `env`).
    pub service_env: BTreeMap<String, Env>,
}

impl StackOptions {
    /// Sets `key` for every process.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.set(key, value);
        self
    }

    /// Sets `key` for the binary `service` only.
    pub fn service_env(mut self, service: &str, key: &str, value: impl Into<String>) -> Self {
        self.service_env
            .entry(service.to_owned())
            .or_default()
            .set(key, value);
        self
    }
}

/// The queue and exchange names a [`Stack`] gave its services (each unique,
/// so parallel tests never take each other's messages).
#[derive(Debug, Clone)]
pub struct Queues {
    /// `CONSUMER_QUEUE` of each gRPC service, by binary name.
    pub consumers: BTreeMap<String, String>,
    /// The petition bridge's `INBOUND_EXCHANGE`.
    pub petition_inbound_exchange: String,
    /// The petition bridge's `INBOUND_QUEUE`.
    pub petition_inbound_queue: String,
}

/// Every service and the gateway as processes on one new database (each
/// service in its own schema), wired to each other by URL.
#[derive(Debug)]
pub struct Stack {
    /// The database they share.
    pub database: String,
    pub registry: Proc,
    pub issues: Proc,
    pub supervision: Proc,
    pub notify: Proc,
    pub petition: Proc,
    pub gateway: Proc,
    /// Their queues (deleted by [`Stack::stop`]).
    pub queues: Queues,
    http: reqwest::Client,
}

impl Stack {
    /// Starts every service and the gateway with the default settings.
    pub async fn start() -> Self {
        Self::start_with(StackOptions::default()).await
    }

    /// Starts the registry, then the ledger, supervision, notify and the
    /// petition bridge together, waits for every consumer queue, then starts
    /// the gateway in front of them with the bootstrap admin
    /// ([`ADMIN_PASSWORD`]).
    ///
    /// Defaults besides [`Env::common`]: the ledger sweeps hourly, notify and
    /// petition dispatch every 100 ms and retry deliveries after 200 ms,
    /// notify links to `http://zoufang.test`; `options` override anything.
    pub async fn start_with(options: StackOptions) -> Self {
        crate::cleanup_old_runs();
        let t0 = Instant::now();
        let database = unique_name("zft");
        let consumers: BTreeMap<String, String> = SERVICES[..5]
            .iter()
            .map(|s| ((*s).to_owned(), unique_name("zft")))
            .collect();
        let queues = Queues {
            consumers,
            petition_inbound_exchange: unique_name("zft"),
            petition_inbound_queue: unique_name("zft"),
        };
        let env_of = |name: &str, specific: Env| {
            let mut env = Env::common(&database);
            if let Some(q) = queues.consumers.get(name) {
                env.set("GRPC_ADDR", "127.0.0.1:0").set("CONSUMER_QUEUE", q);
            }
            env.extend(&specific).extend(&options.env);
            if let Some(mine) = options.service_env.get(name) {
                env.extend(mine);
            }
            env
        };

        let registry = Proc::start("registry", &database, env_of("registry", Env::default())).await;
        let registry_url = registry.grpc_url();
        // The gateway starts last (it needs the others' ports), but
        // supervision and the petition bridge need its token exchange at
        // start: its admin port is chosen now.
        let gateway_admin = free_port();
        let exchange_url = format!("http://127.0.0.1:{gateway_admin}{}", exchange::PATH);
        let client = |name: &str| {
            Env::default()
                .with("TOKEN_EXCHANGE_URL", exchange_url.clone())
                .with("ZF_SERVICE_SECRET", exchange::dev_service_secret(name))
        };
        let (issues, supervision, notify, petition) = tokio::join!(
            Proc::start(
                "issues",
                &database,
                env_of("issues", Env::default().with("SWEEP_INTERVAL_SECS", "3600")),
            ),
            Proc::start(
                "supervision",
                &database,
                env_of(
                    "supervision",
                    client("supervision").with("REGISTRY_URL", registry_url.clone())
                ),
            ),
            Proc::start(
                "notify",
                &database,
                env_of(
                    "notify",
                    Env::default()
                        .with("LINK_BASE_URL", "http://zoufang.test")
                        .with("DISPATCH_INTERVAL_MS", "100")
                        .with("DELIVERY_BACKOFF_MS", "200")
                        .with("DELIVERY_MAX_BACKOFF_SECS", "5")
                ),
            ),
            Proc::start(
                "petition",
                &database,
                env_of(
                    "petition",
                    client("petition")
                        .with("WEBHOOK_ADDR", "127.0.0.1:0")
                        .with("REGISTRY_URL", registry_url.clone())
                        .with("INBOUND_EXCHANGE", queues.petition_inbound_exchange.clone())
                        .with("INBOUND_QUEUE", queues.petition_inbound_queue.clone())
                        .with("DISPATCH_INTERVAL_MS", "100")
                        .with("DELIVERY_BACKOFF_MS", "200")
                        .with("DELIVERY_MAX_BACKOFF_SECS", "2")
                ),
            ),
        );
        // Readiness is the database; events published before a consumer has
        // declared its queue would be lost to it.
        for q in queues.consumers.values() {
            crate::wait_for_queue(q).await;
        }
        let gateway = Proc::start(
            "gateway",
            &database,
            env_of(
                "gateway",
                Env::default()
                    .with("HTTP_ADDR", "127.0.0.1:0")
                    .with("ADMIN_ADDR", format!("127.0.0.1:{gateway_admin}"))
                    .with("ZF_JWT_PRIVATE_KEY", DEV_JWT_PRIVATE_KEY_PEM)
                    .with("ZF_SERVICE_CLIENTS", crate::gateway::dev_service_clients())
                    .with("REGISTRY_URL", registry_url)
                    .with("ISSUES_URL", issues.grpc_url())
                    .with("SUPERVISION_URL", supervision.grpc_url())
                    .with("NOTIFY_URL", notify.grpc_url())
                    .with("PETITION_URL", petition.grpc_url())
                    .with("ACCESS_TOKEN_SECS", "300")
                    .with(
                        "BOOTSTRAP_ADMIN_PASSWORD",
                        crate::gateway::BOOTSTRAP_PASSWORD,
                    ),
            ),
        )
        .await;
        crate::gateway::complete_first_sign_in(gateway.port("http")).await;
        eprintln!(
            "procs: stack on database {database} ready in {:.1} s (gateway http://127.0.0.1:{})",
            t0.elapsed().as_secs_f64(),
            gateway.port("http")
        );
        Self {
            database,
            registry,
            issues,
            supervision,
            notify,
            petition,
            gateway,
            queues,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("http client"),
        }
    }

    /// Every process, in start order.
    pub fn procs(&self) -> [&Proc; 6] {
        [
            &self.registry,
            &self.issues,
            &self.supervision,
            &self.notify,
            &self.petition,
            &self.gateway,
        ]
    }

    /// Every process, in start order, to inspect or restart.
    pub fn procs_mut(&mut self) -> [&mut Proc; 6] {
        [
            &mut self.registry,
            &mut self.issues,
            &mut self.supervision,
            &mut self.notify,
            &mut self.petition,
            &mut self.gateway,
        ]
    }

    /// The gateway's HTTP port.
    pub fn gateway_port(&self) -> u16 {
        self.gateway.port("http")
    }

    /// `http://127.0.0.1:<gateway port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.gateway_port())
    }

    /// The shared database's URL (each service's tables are in its schema:
    /// `registry.`, `issues.`, `supervision.`, `notify.`, `petition.`, `gateway.`).
    pub fn database_url(&self) -> String {
        format!("{}/{}", pg_server(), self.database)
    }

    /// A pool on the shared database, to check what the services wrote.
    pub async fn pool(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&self.database_url())
            .await
            .expect("connect to the stack's database")
    }

    /// The HTTP client (uploads, downloads, extra headers).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// POSTs JSON to the gateway; (status, JSON body or Null).
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("POST to the gateway");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// GETs from the gateway; (status, JSON body or Null).
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("GET from the gateway");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Signs in through the gateway; the access token.
    pub async fn sign_in(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .post(
                "/v1/auth/sign-in",
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "sign in as {username}: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// The bootstrap admin's token (county admin over everything).
    pub async fn admin_token(&self) -> String {
        self.sign_in("admin", ADMIN_PASSWORD).await
    }

    /// Calls `POST /v1/<service>/<method>` with `request` written as proto3
    /// JSON (so the typed requests of `fixtures` can be sent through the
    /// gateway); the JSON reply. Panics with the gateway's error unless 200.
    pub async fn rpc(
        &self,
        token: &str,
        service: &str,
        method: &str,
        request: &impl prost::Message,
    ) -> Value {
        let body = proto_json(service, method, request);
        let (status, reply) = self
            .post(&format!("/v1/{service}/{method}"), Some(token), body)
            .await;
        assert_eq!(status, 200, "{service}/{method}: {reply}");
        reply
    }

    /// `fixtures::seed` through the gateway: the test county's regions, a
    /// township-office cadre, an active campaign over the town with quotas,
    /// one household per village.
    pub async fn seed(&self, token: &str) -> crate::fixtures::Seed {
        use zoufang_proto::registry::v1::*;

        use crate::fixtures::{TOWNSHIP, VILLAGES, ago, household_request, region_csv};
        self.rpc(
            token,
            "registry",
            "ImportRegions",
            &ImportRegionsRequest {
                csv: region_csv().into_bytes(),
            },
        )
        .await;
        let cadre_id = uuid::Uuid::new_v4().to_string();
        self.rpc(
            token,
            "registry",
            "RegisterCadre",
            &RegisterCadreRequest {
                cadre_id: cadre_id.clone(),
                name: "周飞好".into(),
                phone: "13807340001".into(),
                unit: CadreUnit::TownshipOffice as i32,
                position: "工作队员".into(),
                region_code: "430426104".into(),
                roles: vec!["cadre".into()],
            },
        )
        .await;
        let campaign_id = uuid::Uuid::new_v4().to_string();
        let quota = |metric: QuotaMetric, target: i64, min_amount_fen: i64| Quota {
            position: "工作队员".into(),
            metric: metric as i32,
            target,
            min_amount_fen,
        };
        self.rpc(
            token,
            "registry",
            "CreateCampaign",
            &CreateCampaignRequest {
                campaign_id: campaign_id.clone(),
                region_code: TOWNSHIP.into(),
                name: "白鹤铺镇大走访".into(),
                starts_at: ago(30 * 86400),
                ends_at: ago(-30 * 86400),
                themes: vec!["信访维稳".into(), "民生工程".into()],
                status: CampaignStatus::Active as i32,
                completeness_policy: CompletenessPolicy::Refuse as i32,
                quotas: vec![
                    quota(QuotaMetric::HouseholdsVisited, 60, 0),
                    quota(QuotaMetric::OvernightStays, 10, 0),
                    quota(QuotaMetric::HouseholdsHelped, 5, 10000),
                ],
            },
        )
        .await;
        let mut household_ids = Vec::new();
        for (i, village) in VILLAGES.iter().enumerate() {
            let id = uuid::Uuid::new_v4().to_string();
            self.rpc(
                token,
                "registry",
                "RegisterHousehold",
                &household_request(&id, village, i as u32),
            )
            .await;
            household_ids.push(id);
        }
        crate::fixtures::Seed {
            campaign_id,
            cadre_id,
            household_ids,
        }
    }

    /// Stops every process (gateway first) with SIGTERM and waits for each,
    /// then deletes the stack's queues. The exit statuses, by binary name.
    pub async fn stop(mut self) -> BTreeMap<String, Option<ExitStatus>> {
        let mut statuses = BTreeMap::new();
        statuses.insert("gateway".to_owned(), self.gateway.stop().await);
        let (p, n, s, i) = tokio::join!(
            self.petition.stop(),
            self.notify.stop(),
            self.supervision.stop(),
            self.issues.stop(),
        );
        for (name, status) in [
            ("petition", p),
            ("notify", n),
            ("supervision", s),
            ("issues", i),
        ] {
            statuses.insert(name.to_owned(), status);
        }
        statuses.insert("registry".to_owned(), self.registry.stop().await);
        for q in self.queues.consumers.values() {
            crate::delete_consumer_queues(q, &default_retry_delays()).await;
        }
        if let Ok(conn) = zoufang_bus::connect(&amqp_url(), "test-cleanup").await
            && let Ok(ch) = conn.create_channel().await
        {
            let inbound = &self.queues.petition_inbound_queue;
            for q in [inbound.clone(), format!("{inbound}.parking")] {
                let _ = ch.queue_delete(q.into(), Default::default()).await;
            }
            let _ = ch
                .exchange_delete(
                    self.queues.petition_inbound_exchange.clone().into(),
                    Default::default(),
                )
                .await;
            let _ = conn.close(200, "cleanup".into()).await;
        }
        statuses
    }
}

/// `request` as the proto3 JSON body of `POST /v1/<service>/<method>`,
/// through the contracts' descriptors (the gateway's own catalog).
pub fn proto_json(service: &str, method: &str, request: &impl prost::Message) -> Value {
    static CATALOG: OnceLock<zoufang_gateway::door::rpc::Catalog> = OnceLock::new();
    let catalog = CATALOG
        .get_or_init(|| zoufang_gateway::door::rpc::Catalog::load().expect("the contracts load"));
    let entry = catalog
        .methods()
        .find(|m| m.service == service && m.name == method)
        .unwrap_or_else(|| panic!("the gateway has no /v1/{service}/{method}"));
    let msg = prost_reflect::DynamicMessage::decode(
        entry.input.clone(),
        request.encode_to_vec().as_slice(),
    )
    .unwrap_or_else(|e| panic!("the request is not a {}: {e}", entry.input.full_name()));
    serde_json::to_value(&msg).expect("proto3 JSON")
}
