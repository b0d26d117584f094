//! The parking queue: where a message ends after its retries (or at once when
//! it cannot be decoded). An operator lists what is there and replays it into
//! the service's main queue once the cause is fixed (`zfctl parking …`).
use lapin::{
    BasicProperties, Channel,
    options::{BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions},
    types::AMQPValue,
};

use crate::envelope::{ATTEMPT_HEADER, ERROR_HEADER, headers_to_map, with_header};
use crate::topology::ConsumerTopology;

/// A parked message as an operator sees it.
#[derive(Debug, Clone)]
pub struct ParkedMessage {
    /// The event id (message_id), when it has one.
    pub message_id: Option<String>,
    /// The event's routing key (`zf-routing-key`), or the delivery's.
    pub routing_key: String,
    /// Why it was parked (`zf-last-error`), when our consumer parked it.
    pub error: Option<String>,
    /// Payload size in bytes.
    pub payload_len: usize,
}

/// Lists up to `limit` parked messages of `service` without removing them.
pub async fn list(ch: &Channel, service: &str, limit: usize) -> lapin::Result<Vec<ParkedMessage>> {
    let queue = parking_queue(service);
    let mut out = Vec::new();
    let mut last_tag = None;
    while out.len() < limit {
        let Some(msg) = ch
            .basic_get(queue.clone().into(), BasicGetOptions { no_ack: false })
            .await?
        else {
            break;
        };
        let d = &msg.delivery;
        let headers = d
            .properties
            .headers()
            .as_ref()
            .map(headers_to_map)
            .unwrap_or_default();
        out.push(ParkedMessage {
            message_id: d
                .properties
                .message_id()
                .as_ref()
                .map(|s| s.as_str().to_owned()),
            routing_key: headers
                .get(crate::envelope::ROUTING_KEY_HEADER)
                .cloned()
                .unwrap_or_else(|| d.routing_key.as_str().to_owned()),
            error: headers.get(ERROR_HEADER).cloned(),
            payload_len: d.data.len(),
        });
        last_tag = Some(d.delivery_tag);
    }
    if let Some(tag) = last_tag {
        // Give every peeked message back, in order.
        ch.basic_nack(
            tag,
            BasicNackOptions {
                multiple: true,
                requeue: true,
            },
        )
        .await?;
        // basic.nack has no reply: a synchronous call on the same channel
        // makes sure the broker has put the messages back before we return.
        crate::queue_depth(ch, &queue).await?;
    }
    Ok(out)
}

/// The queue's message count once it holds still. Quorum queues apply a
/// requeue (after `list` peeked) asynchronously, so a count read at once can
/// come up short; read until three reads 100 ms apart agree (or 2 s pass).
async fn settled_count(ch: &Channel, queue: &str) -> lapin::Result<usize> {
    let mut last = crate::queue_depth(ch, queue).await?;
    let mut same = 1;
    for _ in 0..20 {
        if same >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let now = crate::queue_depth(ch, queue).await?;
        if now == last {
            same += 1;
        } else {
            (last, same) = (now, 1);
        }
    }
    Ok(last as usize)
}

/// Moves up to `limit` parked messages of `service` back into its main queue
/// with the attempt counter reset. `ch` must be in confirm mode: a message is
/// removed from parking only after the broker confirmed the replayed copy.
pub async fn replay(ch: &Channel, service: &str, limit: usize) -> anyhow::Result<usize> {
    let queue = parking_queue(service);
    let main = format!("{service}.events");
    // Only what is parked now: a message that fails again after the replay
    // is parked anew and must not be replayed in a loop.
    let parked_now = settled_count(ch, &queue).await?;
    let limit = limit.min(parked_now);
    let mut moved = 0;
    while moved < limit {
        let Some(msg) = ch
            .basic_get(queue.clone().into(), BasicGetOptions { no_ack: false })
            .await?
        else {
            break;
        };
        let d = msg.delivery;
        let props: BasicProperties =
            with_header(d.properties.clone(), ATTEMPT_HEADER, AMQPValue::LongUInt(0));
        let confirm = ch
            .basic_publish(
                "".into(),
                main.clone().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                &d.data,
                props,
            )
            .await?
            .await?;
        if !confirm.is_ack() || confirm.take_message().is_some() {
            ch.basic_nack(
                d.delivery_tag,
                BasicNackOptions {
                    multiple: false,
                    requeue: true,
                },
            )
            .await?;
            anyhow::bail!("broker did not accept the replayed message into {main}");
        }
        ch.basic_ack(d.delivery_tag, BasicAckOptions::default())
            .await?;
        moved += 1;
    }
    Ok(moved)
}

fn parking_queue(service: &str) -> String {
    ConsumerTopology {
        service: service.to_owned(),
        bindings: vec![],
        retry_delays: vec![],
    }
    .parking_queue()
}
