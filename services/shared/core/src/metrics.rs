//! Prometheus metrics of the runtime: RPC rate, errors and latency, outbox
//! backlog, age and publishes, consumer outcomes, lag and parked messages,
//! notification deliveries and petition answers. Served by the admin
//! endpoint at `/metrics`; `deploy/grafana/dashboards/zoufang.json` graphs
//! them (and `scripts/check-compose.sh` checks that every `zf_*` name it
//! uses is defined here).
use std::sync::LazyLock;

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Every metric of this process.
pub static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

fn register<C: prometheus::core::Collector + Clone + 'static>(c: C) -> C {
    // Registering the same name twice only happens in tests; ignore it.
    let _ = REGISTRY.register(Box::new(c.clone()));
    c
}

/// gRPC requests by method (`/zoufang.registry.v1.RegistryService/RecordVisit`)
/// and status code (the numeric `grpc-status`: `0` is OK, anything else an
/// error; `transport` when no response was produced).
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

/// Unpublished outbox rows, by service (its schema), counted by the relay
/// when it polls. Every replica reports the whole table: aggregate with max.
pub static OUTBOX_BACKLOG: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register(
        IntGaugeVec::new(
            Opts::new("zf_outbox_backlog", "unpublished outbox rows"),
            &["service"],
        )
        .expect("metric"),
    )
});

/// Age in seconds of the oldest unpublished outbox row, by service; 0 when
/// nothing waits. Updated with [`OUTBOX_BACKLOG`]. A growing value means the
/// relay is stuck (broker down, a row the broker keeps refusing).
pub static OUTBOX_OLDEST_UNSENT: LazyLock<GaugeVec> = LazyLock::new(|| {
    register(
        GaugeVec::new(
            Opts::new(
                "zf_outbox_oldest_unsent_seconds",
                "age of the oldest unpublished outbox row",
            ),
            &["service"],
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
            &["service", "outcome"],
        )
        .expect("metric"),
    )
});

/// Outbox and inbox rows deleted by the retention sweep (see `retention`).
pub static RETENTION_DELETED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(
        IntCounterVec::new(
            Opts::new(
                "zf_retention_deleted_total",
                "outbox and inbox rows deleted past their retention window",
            ),
            &["service", "table"],
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

/// Messages waiting in the parking queue of a consumer's queue (label: the
/// main queue, `issues.events`, like the other consumer metrics), read from
/// the broker by every running consumer every few seconds: aggregate with max.
pub static CONSUMER_PARKED: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register(
        IntGaugeVec::new(
            Opts::new(
                "zf_consumer_parked_messages",
                "messages in the parking queue of this consumer's queue",
            ),
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

/// Petition answers pushed back to source systems, by result (sent, retry,
/// failed).
pub static PETITION_ANSWERS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(
        IntCounterVec::new(
            Opts::new(
                "zf_petition_answers_total",
                "Petition answer pushes to source systems by result",
            ),
            &["result"],
        )
        .expect("metric"),
    )
});

/// 1 while this process reads the revocation stream (`auth::revocation`),
/// 0 while the broker is away and revoked tokens work until they expire.
pub static REVOCATION_FEED_UP: LazyLock<prometheus::IntGauge> = LazyLock::new(|| {
    register(
        prometheus::IntGauge::new(
            "zf_revocation_feed_up",
            "Whether the process reads the sessions-revoked stream (1) or not (0)",
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The exposition lines of `name` (its samples, not HELP/TYPE).
    fn samples(name: &str) -> Vec<String> {
        render()
            .lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn touched_metrics_appear_with_their_labels() {
        GRPC_REQUESTS
            .with_label_values(&["/zoufang.test.v1.TestService/Do", "3"])
            .inc();
        GRPC_LATENCY
            .with_label_values(&["/zoufang.test.v1.TestService/Do"])
            .observe(0.003);
        OUTBOX_BACKLOG.with_label_values(&["testsvc"]).set(7);
        OUTBOX_OLDEST_UNSENT
            .with_label_values(&["testsvc"])
            .set(12.5);
        CONSUMER_PARKED
            .with_label_values(&["testsvc.events"])
            .set(2);
        CONSUMER_LAG
            .with_label_values(&["testsvc.events"])
            .observe(0.2);
        CONSUMED
            .with_label_values(&["testsvc.events", "parked"])
            .inc();
        NOTIFY_DELIVERIES.with_label_values(&["sms", "retry"]).inc();
        PETITION_ANSWERS.with_label_values(&["failed"]).inc_by(2);

        let text = render();
        for line in [
            r#"zf_grpc_requests_total{code="3",method="/zoufang.test.v1.TestService/Do"} 1"#,
            r#"zf_grpc_request_seconds_count{method="/zoufang.test.v1.TestService/Do"} 1"#,
            r#"zf_outbox_backlog{service="testsvc"} 7"#,
            r#"zf_outbox_oldest_unsent_seconds{service="testsvc"} 12.5"#,
            r#"zf_consumer_parked_messages{queue="testsvc.events"} 2"#,
            r#"zf_consumer_lag_seconds_bucket{queue="testsvc.events",le="0.25"} 1"#,
            r#"zf_events_consumed_total{outcome="parked",queue="testsvc.events"} 1"#,
            r#"zf_notify_deliveries_total{channel="sms",result="retry"} 1"#,
            r#"zf_petition_answers_total{result="failed"} 2"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from:\n{text}"
            );
        }
    }

    #[test]
    fn gauges_follow_the_last_value() {
        let g = OUTBOX_OLDEST_UNSENT.with_label_values(&["gaugesvc"]);
        g.set(30.0);
        g.set(0.0);
        assert_eq!(
            samples("zf_outbox_oldest_unsent_seconds{service=\"gaugesvc\"}"),
            vec![r#"zf_outbox_oldest_unsent_seconds{service="gaugesvc"} 0"#]
        );
    }
}
