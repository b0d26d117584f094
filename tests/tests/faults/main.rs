//! Faults on the shared servers: RabbitMQ restarted (`broker_restart`),
//! PostgreSQL restarted (`pg_restart`), each service killed with SIGKILL
//! (`kill`), all under load. They stop what every other test uses, so they
//! are a binary of their own (`cargo test` runs binaries one after another)
//! and inside it run one at a time: each holds [`serial`] throughout.
mod broker_restart;
mod kill;
mod pg_restart;

/// Held by each fault test from start to end: `cargo test` would run the
/// tests of this binary in parallel threads, and a restarted broker or
/// database breaks whatever runs beside it.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}
