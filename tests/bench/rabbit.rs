//! The broker's own limit, as a baseline: persistent publishes to a durable
//! queue with publisher confirms, `clients` publishers at once (each on its
//! own channel, waiting for each confirm before the next publish, as a
//! careful producer does), messages the size of an event.
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use lapin::{
    BasicProperties,
    options::{BasicPublishOptions, QueueDeclareOptions},
    types::FieldTable,
};
use zoufang_e2e::{amqp_url, unique_name};

/// Confirmed persistent publishes per second at `clients` publishers.
pub async fn publish_confirm_baseline(clients: usize, seconds: u64) -> anyhow::Result<f64> {
    let conn = zoufang_bus::connect(&amqp_url(), "bench-baseline").await?;
    let queue = unique_name("zftbench");
    let setup = conn.create_channel().await?;
    setup
        .queue_declare(
            queue.clone().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    let stop = Arc::new(AtomicBool::new(false));
    let published = Arc::new(AtomicU64::new(0));
    let body = vec![b'x'; 400];
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let ch = zoufang_bus::confirm_channel(&conn).await?;
        let (stop, published, queue, body) =
            (stop.clone(), published.clone(), queue.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let confirm = ch
                    .basic_publish(
                        "".into(),
                        queue.clone().into(),
                        BasicPublishOptions::default(),
                        &body,
                        BasicProperties::default().with_delivery_mode(2),
                    )
                    .await?
                    .await?;
                anyhow::ensure!(confirm.is_ack(), "the broker refused a publish");
                published.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let n = published.load(Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    for t in tasks {
        t.await??;
    }
    setup.queue_delete(queue.into(), Default::default()).await?;
    let _ = conn.close(200, "done".into()).await;
    Ok(n as f64 / elapsed)
}
