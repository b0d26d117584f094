//! RabbitMQ: connection, the topology every service shares, and the event
//! envelope (CloudEvents attributes in AMQP properties and headers).
//!
//! Topology (DESIGN.md §3): one durable topic exchange `zoufang.events` with
//! routing keys `<service>.<entity>.<verb>`. Each consuming service has a
//! durable quorum queue `<svc>.events`, retry queues `<svc>.retry.<ms>ms`
//! (TTL, then back to the main queue) behind the direct exchange
//! `zoufang.retry`, and a parking queue `<svc>.parking` behind the direct
//! exchange `zoufang.parking`, which is also the main queue's dead-letter
//! exchange.
pub mod envelope;
pub mod parking;
pub mod topology;

use std::time::Duration;

use lapin::{Channel, Connection, ConnectionProperties, options::ConfirmSelectOptions};

pub use envelope::{Envelope, headers_to_map};

/// The topic exchange every event is published on.
pub const EVENTS_EXCHANGE: &str = "zoufang.events";
/// The direct exchange that feeds the retry (delay) queues.
pub const RETRY_EXCHANGE: &str = "zoufang.retry";
/// The direct exchange that feeds the parking queues.
pub const PARKING_EXCHANGE: &str = "zoufang.parking";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(350));
        let got: Vec<_> = (0..4).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(got, vec![100, 200, 350, 350]);
    }
}
