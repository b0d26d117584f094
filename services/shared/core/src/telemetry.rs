//! Logs and traces: `tracing` with JSON output; OpenTelemetry spans exported
//! over OTLP when an endpoint is configured; W3C trace context carried across
//! gRPC metadata, AMQP headers and outbox rows so one trace spans every hop.
use std::collections::HashMap;

use opentelemetry::{
    Context, global,
    propagation::{Extractor, Injector},
    trace::TracerProvider as _,
};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer as _, layer::SubscriberExt, util::SubscriberInitExt};

/// The variable that filters which spans are exported (an `EnvFilter`
/// directive like `RUST_LOG`'s), apart from the logs' `RUST_LOG`.
pub const TRACE_FILTER_ENV: &str = "ZF_TRACE_FILTER";

/// Keeps the tracer provider alive; flushes spans when dropped.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

/// Added to every `RUST_LOG` that does not name the target itself: lapin
/// logs each message the broker returns at WARN, the whole message with its
/// payload bytes (kilobytes a line). A return is an event nobody follows,
/// dropped by design; the outbox relay logs it, at debug, with its routing
/// key and event id.
const QUIET_RETURNS: &str = "lapin::returned_messages=error";

/// The logs' filter: `rust_log` (`info` when unset or unreadable) with
/// [`QUIET_RETURNS`].
fn log_filter(rust_log: Option<&str>) -> EnvFilter {
    let base = rust_log
        .filter(|s| EnvFilter::try_new(s).is_ok())
        .unwrap_or("info");
    if base.contains("lapin::returned_messages") {
        EnvFilter::new(base)
    } else {
        EnvFilter::new(format!("{base},{QUIET_RETURNS}"))
    }
}

/// Installs the global subscriber: JSON logs filtered by `RUST_LOG` (default
/// `info`) and, when `otlp_endpoint` is set, an OTLP span exporter.
///
/// The two outputs filter separately: `RUST_LOG` quiets the logs only, and
/// spans go to OpenTelemetry by [`TRACE_FILTER_ENV`] (default `info`), so an
/// operator who sets `RUST_LOG=warn` to cut log volume keeps the traces.
///
/// Safe to call more than once (tests): later calls keep the first subscriber.
pub fn init(service: &'static str, otlp_endpoint: Option<&str>) -> anyhow::Result<TelemetryGuard> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let log_filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let trace_filter =
        EnvFilter::try_from_env(TRACE_FILTER_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_target(true);
    // A tracer provider always exists, so trace ids are made and carried
    // across gRPC and AMQP hops even when nothing is exported; the OTLP
    // exporter is added only when an endpoint is configured.
    let mut builder = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name(service).build());
    if let Some(endpoint) = otlp_endpoint {
        use opentelemetry_otlp::WithExportConfig;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    global::set_tracer_provider(provider.clone());
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer(service));
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(log_filter))
        .with(otel.with_filter(trace_filter))
        .try_init();
    Ok(TelemetryGuard {
        provider: Some(provider),
    })
}

/// The current span's trace context as W3C headers (`traceparent`, `tracestate`).
pub fn current_trace_headers() -> HashMap<String, String> {
    let cx = tracing::Span::current().context();
    let mut map = HashMap::new();
    global::get_text_map_propagator(|p| p.inject_context(&cx, &mut MapInjector(&mut map)));
    map
}

/// Makes the trace context in `headers` the parent of `span`.
pub fn set_parent_from(span: &tracing::Span, headers: &HashMap<String, String>) {
    let cx: Context = global::get_text_map_propagator(|p| p.extract(&MapExtractor(headers)));
    let _ = span.set_parent(cx);
}

/// Extracts the trace context from HTTP/gRPC headers and parents `span` on it.
pub fn set_parent_from_http(span: &tracing::Span, headers: &http::HeaderMap) {
    let map: HashMap<String, String> = headers
        .iter()
        .filter(|(k, _)| k.as_str() == "traceparent" || k.as_str() == "tracestate")
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    set_parent_from(span, &map);
}

/// Adds the current trace context to outgoing gRPC metadata.
pub fn inject_into_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    for (k, v) in current_trace_headers() {
        if let (Ok(key), Ok(val)) = (
            tonic::metadata::MetadataKey::from_bytes(k.as_bytes()),
            v.parse(),
        ) {
            metadata.insert(key, val);
        }
    }
}

struct MapInjector<'a>(&'a mut HashMap<String, String>);

impl Injector for MapInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

struct MapExtractor<'a>(&'a HashMap<String, String>);

impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceContextExt;

    /// What `filter` lets through of a lapin return dump and an info line.
    fn logged(filter: EnvFilter) -> String {
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = out.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || Sink(sink.clone()))
            .with_filter(filter);
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            tracing::warn!(target: "lapin::returned_messages", "Server returned us a message");
            tracing::info!(target: "zoufang_bus::outbox", "outbox relay connected");
        });
        String::from_utf8(out.lock().unwrap().clone()).unwrap()
    }

    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// `scripts/run.sh`, compose and k8s all set `RUST_LOG=info`: lapin's
    /// dumps of returned messages stay out all the same, unless named.
    #[test]
    fn lapin_return_dumps_stay_out_of_the_logs_whatever_rust_log_says() {
        for rust_log in [None, Some("info"), Some("debug"), Some("not a filter ==")] {
            let text = logged(log_filter(rust_log));
            assert!(
                text.contains("outbox relay connected"),
                "{rust_log:?}: {text}"
            );
            assert!(!text.contains("returned us"), "{rust_log:?}: {text}");
        }
        let asked = logged(log_filter(Some("info,lapin::returned_messages=warn")));
        assert!(asked.contains("returned us"), "{asked}");
    }

    #[test]
    fn trace_context_round_trips_through_headers() {
        global::set_text_map_propagator(TraceContextPropagator::new());
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let headers = HashMap::from([("traceparent".to_owned(), tp.to_owned())]);
        let cx = global::get_text_map_propagator(|p| p.extract(&MapExtractor(&headers)));
        assert_eq!(
            cx.span().span_context().trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        let mut out = HashMap::new();
        global::get_text_map_propagator(|p| p.inject_context(&cx, &mut MapInjector(&mut out)));
        assert_eq!(out.get("traceparent").map(String::as_str), Some(tp));
    }
}
