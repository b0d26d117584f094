//! Prometheus metrics of the runtime: RPC rate, errors and latency, outbox
//! backlog and publishes, consumer outcomes and parked messages. Served by
//! the admin endpoint at `/metrics`.
use std::sync::LazyLock;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Every metric of this process.
pub static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

fn register<C: prometheus::core::Collector + Clone + 'static>(c: C) -> C {
    // Registering the same name twice only happens in tests; ignore it.
    let _ = REGISTRY.register(Box::new(c.clone()));
    c
}

/// gRPC requests by method and status code.
pub static GRPC_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(
        IntCounterVec::new(
            Opts::new("zf_grpc_requests_total", "gRPC requests by method and code"),
            &["method", "code"],
        )
        .expect("metric"),
    )
});

/// gRPC request latency by method.
pub static GRPC_LATENCY: LazyLock<HistogramVec> = LazyLock::new(|| {
    register(
        HistogramVec::new(
            HistogramOpts::new("zf_grpc_request_seconds", "gRPC request latency").buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["method"],
        )
        .expect("metric"),
    )
});

/// Unpublished outbox rows seen by the relay at its last pass.
pub static OUTBOX_BACKLOG: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register(
        IntGaugeVec::new(
            Opts::new("zf_outbox_backlog", "unpublished outbox rows"),
            &["schema"],
        )
        .expect("metric"),
    )
});

/// Events published (and confirmed) by the relay, by outcome.
pub static OUTBOX_PUBLISHED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(
        IntCounterVec::new(
            Opts::new(
                "zf_outbox_published_total",
                "events confirmed by the broker",
            ),
            &["schema", "outcome"],
        )
        .expect("metric"),
    )
});

/// Consumed events by queue and outcome (applied, duplicate, retried, parked).
pub static CONSUMED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(
        IntCounterVec::new(
            Opts::new("zf_events_consumed_total", "consumed events by outcome"),
            &["queue", "outcome"],
        )
        .expect("metric"),
    )
});

/// Seconds between an event's creation and its processing by a consumer.
pub static CONSUMER_LAG: LazyLock<HistogramVec> = LazyLock::new(|| {
    register(
        HistogramVec::new(
            HistogramOpts::new("zf_consumer_lag_seconds", "event age when applied").buckets(vec![
                0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ]),
            &["queue"],
        )
        .expect("metric"),
    )
});

/// Notification deliveries by channel (sms, wecom, dingtalk, webhook) and
/// result (sent, retry, failed).
pub static NOTIFY_DELIVERIES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(
        IntCounterVec::new(
            Opts::new(
                "zf_notify_deliveries_total",
                "Notification delivery attempts by channel and result",
            ),
            &["channel", "result"],
        )
        .expect("metric"),
    )
});

/// The text exposition of every registered metric.
pub fn render() -> String {
    let mut buf = Vec::new();
    let _ = TextEncoder::new().encode(&REGISTRY.gather(), &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}
