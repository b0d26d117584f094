//! Zoufang's events, on `zoufang-core`: the RabbitMQ connection, the
//! topology every service shares and the event envelope (CloudEvents
//! attributes in AMQP properties and headers); the transactional outbox and
//! its relay; idempotent consumers (inbox) with retries and parking; the
//! retention of those tables; the revocation feed; webhook signing; and the
//! job engine (claim, run, retry with back-off, give up).
//!
//! Topology (DESIGN.md §3): one durable topic exchange `zoufang.events` with
//! routing keys `<service>.<entity>.<verb>`. Each consuming service has a
//! durable quorum queue `<svc>.events`, retry queues `<svc>.retry.<ms>ms`
//! (TTL, then back to the main queue) behind the direct exchange
//! `zoufang.retry`, and a parking queue `<svc>.parking` behind the direct
//! exchange `zoufang.parking`, which is also the main queue's dead-letter
//! exchange.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod consumer;
pub mod envelope;
pub mod jobs;
pub mod outbox;
pub mod parking;
pub mod relay;
pub mod retention;
pub mod retry;
pub mod revocation;
#[cfg(test)]
mod scratch;
pub mod signing;
pub mod topology;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use lapin::{
    Channel, Connection, ConnectionProperties,
    options::{ConfirmSelectOptions, QueueDeclareOptions},
    types::FieldTable,
};

pub use envelope::{Envelope, headers_to_map};
use tokio_util::sync::CancellationToken;

/// The topic exchange every event is published on.
pub const EVENTS_EXCHANGE: &str = "zoufang.events";
/// The direct exchange that feeds the retry (delay) queues.
pub const RETRY_EXCHANGE: &str = "zoufang.retry";
/// The direct exchange that feeds the parking queues.
pub const PARKING_EXCHANGE: &str = "zoufang.parking";

/// Messages ready in `queue`, by a passive declare (fails if it is missing,
/// and the broker then closes `ch`).
pub async fn queue_depth(ch: &Channel, queue: &str) -> lapin::Result<u32> {
    Ok(ch
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?
        .message_count())
}

/// Opens a connection named after the service (visible in the management UI).
pub async fn connect(amqp_url: &str, name: &str) -> anyhow::Result<Connection> {
    let props = ConnectionProperties::default().with_connection_name(name.to_owned().into());
    match tokio::time::timeout(
        Duration::from_secs(10),
        Connection::connect(amqp_url, props),
    )
    .await
    {
        Ok(conn) => Ok(conn?),
        Err(_) => anyhow::bail!("timed out connecting to RabbitMQ"),
    }
}

/// A channel in publisher-confirm mode.
pub async fn confirm_channel(conn: &Connection) -> lapin::Result<Channel> {
    let ch = conn.create_channel().await?;
    ch.confirm_select(ConfirmSelectOptions::default()).await?;
    Ok(ch)
}

/// Exponential back-off with a cap, for reconnect loops.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// Starts at `initial`, doubles each time, never above `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self { next: initial, max }
    }
    /// The delay to wait now; the next one will be twice as long.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_millis(200), Duration::from_secs(10))
    }
}

/// Handed to each session of [`reconnecting`]: the session marks it once it
/// is connected, so the failure that ends it is followed by the shortest
/// delay again rather than the last, longest one.
#[derive(Debug, Clone, Default)]
pub struct Connected(Arc<AtomicBool>);

impl Connected {
    /// The session is connected and working.
    pub fn mark(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn was_marked(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Runs `session` again and again until one returns Ok (it saw the
/// shutdown) or `shutdown` is cancelled. After each failure it logs the
/// error under `what` and waits a back-off delay: how every long-lived
/// broker connection (consumers, outbox relays, inbound doors) survives the
/// broker or the database going away.
pub async fn reconnecting<F, Fut>(what: &str, shutdown: &CancellationToken, mut session: F)
where
    F: FnMut(Connected) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut backoff = Backoff::default();
    while !shutdown.is_cancelled() {
        let connected = Connected::default();
        let Err(e) = session(connected.clone()).await else {
            break;
        };
        if connected.was_marked() {
            backoff = Backoff::default();
        }
        let delay = backoff.next_delay();
        tracing::warn!(
            task = what,
            error = format!("{e:#}"),
            retry_in_ms = delay.as_millis() as u64,
            "interrupted; reconnecting"
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.cancelled() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reconnecting_runs_sessions_until_one_ends_cleanly() {
        let shutdown = CancellationToken::new();
        let calls = std::sync::atomic::AtomicU32::new(0);
        reconnecting("test", &shutdown, |connected| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    connected.mark();
                }
                anyhow::ensure!(n >= 2, "broker away");
                Ok(())
            }
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn reconnecting_stops_waiting_at_shutdown() {
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            stop.cancel();
        });
        let calls = std::sync::atomic::AtomicU32::new(0);
        let t = std::time::Instant::now();
        reconnecting("test", &shutdown, |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { anyhow::bail!("broker away") }
        })
        .await;
        // The first delay is 200 ms: cancelled during it, no second session.
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(
            t.elapsed() < Duration::from_millis(190),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn backoff_doubles_up_to_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(350));
        let got: Vec<_> = (0..4).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(got, vec![100, 200, 350, 350]);
    }
}
