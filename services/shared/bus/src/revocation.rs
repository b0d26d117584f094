//! The revocation feed: every process of every service reads the
//! gateway's `gateway.session.revoked` events from a RabbitMQ stream (an
//! append-only log, [`STREAM`]) into the [`RevokedSessions`] set its
//! `AuthInterceptor` consults (`zoufang_core::auth::revocation`), starting
//! [`REMEMBER`] back in time at each (re)connection.
use std::time::SystemTime;

use futures::StreamExt as _;
use lapin::{
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicQosOptions, QueueBindOptions,
        QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable, ShortString},
};
use tokio_util::sync::CancellationToken;
use zoufang_core::auth::revocation::unix_secs;
pub use zoufang_core::auth::revocation::{
    REMEMBER, RevokedSessions, SESSION_REVOKED, until_invalid,
};

use crate::EVENTS_EXCHANGE;

/// The stream every service reads revocations from.
pub const STREAM: &str = "zoufang.sessions.revoked";

/// Declares the stream and binds it to the events exchange (every service
/// and the gateway do this at start; declaring twice is harmless). Segments
/// are small so that the one-hour age limit actually removes old ones.
pub async fn declare(ch: &lapin::Channel) -> lapin::Result<()> {
    crate::topology::declare_exchanges(ch).await?;
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("stream".into()),
    );
    args.insert("x-max-age".into(), AMQPValue::LongString("1h".into()));
    args.insert(
        "x-stream-max-segment-size-bytes".into(),
        AMQPValue::LongLongInt(1 << 20),
    );
    args.insert(
        "x-max-length-bytes".into(),
        AMQPValue::LongLongInt(64 << 20),
    );
    ch.queue_declare(
        STREAM.into(),
        QueueDeclareOptions {
            durable: true,
            ..Default::default()
        },
        args,
    )
    .await?;
    ch.queue_bind(
        STREAM.into(),
        EVENTS_EXCHANGE.into(),
        SESSION_REVOKED.into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
}

/// Reads the stream into `revoked` until `shutdown`, reconnecting after
/// failures; each (re)connection starts [`REMEMBER`] back in time.
pub async fn follow(amqp_url: String, revoked: RevokedSessions, shutdown: CancellationToken) {
    crate::reconnecting("revocation feed", &shutdown, |connected| {
        let (url, revoked, shutdown) = (amqp_url.clone(), revoked.clone(), shutdown.clone());
        async move {
            let result = read(&url, &revoked, &shutdown, &connected).await;
            zoufang_core::metrics::REVOCATION_FEED_UP.set(0);
            result
        }
    })
    .await;
}

async fn read(
    url: &str,
    revoked: &RevokedSessions,
    shutdown: &CancellationToken,
    connected: &crate::Connected,
) -> anyhow::Result<()> {
    let conn = crate::connect(url, "revocation-feed").await?;
    let ch = conn.create_channel().await?;
    declare(&ch).await?;
    // A stream is read with manual acknowledgements and a prefetch.
    ch.basic_qos(200, BasicQosOptions::default()).await?;
    let from = unix_secs(SystemTime::now()).saturating_sub(REMEMBER.as_secs());
    let mut args = FieldTable::default();
    args.insert(
        ShortString::from("x-stream-offset"),
        AMQPValue::Timestamp(from),
    );
    let mut deliveries = ch
        .basic_consume(
            STREAM.into(),
            "".into(),
            BasicConsumeOptions::default(),
            args,
        )
        .await?;
    connected.mark();
    zoufang_core::metrics::REVOCATION_FEED_UP.set(1);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => {
                let _ = conn.close(200, "shutdown".into()).await;
                return Ok(());
            }
            next = deliveries.next() => {
                let Some(delivery) = next else {
                    anyhow::bail!("the revocation stream's consumer was cancelled");
                };
                let delivery = delivery?;
                if !revoked.apply(&delivery.data) {
                    tracing::warn!("a message on {STREAM} is not a SessionsRevoked; skipped");
                }
                delivery.ack(BasicAckOptions::default()).await?;
            }
        }
    }
}
