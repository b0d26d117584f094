//! One trace spans gateway → registry → queue → ledger → notify, with the
//! real binaries as processes exporting OTLP to a receiver in this test;
//! and a service flushes its spans when it stops.
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::any_value,
    trace::v1::span::SpanKind,
};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, transport::server::TcpIncoming};
use zoufang_e2e::{
    eventually, fixtures,
    procs::{Env, Proc, Stack, StackOptions},
    unique_name,
};

/// A span as the receiver got it (ids in lowercase hex, as in `traceparent`).
#[derive(Debug, Clone)]
struct Received {
    trace_id: String,
    span_id: String,
    /// Empty for a root span.
    parent: String,
    name: String,
    /// The resource's `service.name`.
    service: String,
    kind: &'static str,
}

impl std::fmt::Display for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<11} {:<8} {} parent {:<16} {}",
            self.service,
            self.kind,
            self.span_id,
            if self.parent.is_empty() {
                "-"
            } else {
                &self.parent
            },
            self.name
        )
    }
}

/// An OTLP/gRPC trace receiver that keeps every span it is sent.
#[derive(Debug, Clone, Default)]
struct Receiver(Arc<Mutex<Vec<Received>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let mut got = Vec::new();
        for rs in request.into_inner().resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref()?.value.as_ref())
                .map(|v| match v {
                    any_value::Value::StringValue(s) => s.clone(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default();
            for span in rs.scope_spans.into_iter().flat_map(|s| s.spans) {
                got.push(Received {
                    trace_id: hex::encode(&span.trace_id),
                    span_id: hex::encode(&span.span_id),
                    parent: hex::encode(&span.parent_span_id),
                    kind: match SpanKind::try_from(span.kind) {
                        Ok(SpanKind::Server) => "server",
                        Ok(SpanKind::Client) => "client",
                        Ok(SpanKind::Producer) => "producer",
                        Ok(SpanKind::Consumer) => "consumer",
                        Ok(SpanKind::Internal) => "internal",
                        _ => "unknown",
                    },
                    name: span.name,
                    service: service.clone(),
                });
            }
        }
        self.0.lock().expect("spans").extend(got);
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Receiver {
    /// Serves OTLP/gRPC on a free port until `stop`; the port.
    async fn serve(&self, stop: CancellationToken) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let port = listener.local_addr().expect("addr").port();
        let service = TraceServiceServer::new(self.clone());
        tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(TcpIncoming::from(listener), stop.cancelled_owned())
                .await;
        });
        port
    }

    /// Every span of `trace_id` received so far.
    fn trace(&self, trace_id: &str) -> Vec<Received> {
        self.0
            .lock()
            .expect("spans")
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }

    /// Every span whose name contains `part`, whatever its trace.
    fn named(&self, part: &str) -> Vec<Received> {
        self.0
            .lock()
            .expect("spans")
            .iter()
            .filter(|s| s.name.contains(part))
            .cloned()
            .collect()
    }

    fn count(&self) -> usize {
        self.0.lock().expect("spans").len()
    }
}

/// The spans of a trace as lines, for failure messages.
fn listing(spans: &[Received]) -> String {
    let mut lines: Vec<String> = spans.iter().map(|s| format!("  {s}")).collect();
    lines.sort();
    lines.join("\n")
}

/// A fresh W3C trace id and parent span id (the "browser" calling the gateway).
fn new_trace() -> (String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    (trace_id, span_id)
}

#[tokio::test]
async fn one_trace_spans_gateway_registry_queue_ledger_notify() {
    let receiver = Receiver::default();
    let stop_receiver = CancellationToken::new();
    let otlp_port = receiver.serve(stop_receiver.clone()).await;
    let stack = Stack::start_with(
        StackOptions::default()
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{otlp_port}"),
            )
            // Export every 200 ms instead of every 5 s.
            .env("OTEL_BSP_SCHEDULE_DELAY", "200")
            // Logs quieted to warnings (but for the lines the harness reads
            // the ports from): the spans must still be exported, since
            // RUST_LOG filters only the logs.
            .env(
                "RUST_LOG",
                "warn,zoufang_service::server=info,zoufang_gateway::app=info,zoufang_petition::app=info",
            ),
    )
    .await;

    // Set-up through the gateway, as an operator would.
    let admin = stack.admin_token().await;
    let seed = stack.seed(&admin).await;

    // The visit, in a trace the test starts (as a browser with tracing would):
    // item 1 is a problem left open, item 2 a dispute resolved on the spot by
    // the visiting cadre, so the ledger creates it with that cadre responsible
    // and notify writes the cadre an inbox message.
    let (trace_id, client_span) = new_trace();
    let visit = fixtures::visit_request(&seed, &seed.household_ids[0]);
    let body = zoufang_e2e::procs::proto_json("registry", "RecordVisit", &visit);
    let resp = stack
        .http()
        .post(stack.url("/v1/registry/RecordVisit"))
        .bearer_auth(&admin)
        .header("traceparent", format!("00-{trace_id}-{client_span}-01"))
        .json(&body)
        .send()
        .await
        .expect("record the visit");
    let status = resp.status().as_u16();
    let reply = resp.text().await.unwrap_or_default();
    assert_eq!(status, 200, "RecordVisit through the gateway: {reply}");

    // The event went registry → queue → ledger → queue → notify.
    let pool = stack.pool().await;
    let inbox = eventually(Duration::from_secs(30), || {
        let pool = pool.clone();
        let cadre = seed.cadre_id.clone();
        async move {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM notify.notifications WHERE recipient_id = $1",
            )
            .bind(cadre)
            .fetch_one(&pool)
            .await
            .ok()?;
            (n > 0).then_some(n)
        }
    })
    .await;
    assert!(
        inbox.is_some(),
        "notify wrote no inbox message for the cadre {}: the visit's item never made it \
         through the ledger (see the logs in target/test-logs/{}-*.log)",
        seed.cadre_id,
        stack.database
    );

    // Every service exports every 200 ms: wait until the trace holds the
    // whole path, notify's consume span up to the caller's span. (Our
    // processes also hear the events of other tests' ledgers running beside
    // this one, which continue this trace in spans nobody exports here; so
    // the test follows the path through this stack's spans only.)
    let wanted = ["gateway", "registry", "issues", "notify"];
    let spans = eventually(Duration::from_secs(30), || {
        let spans = receiver.trace(&trace_id);
        let done = spans.iter().any(|s| {
            s.service == "notify"
                && s.name == "consume issues.issue.created"
                && path_services(&chain(&spans, s)) == ["notify", "issues", "registry", "gateway"]
                && chain(&spans, s)
                    .last()
                    .is_some_and(|root| root.parent == client_span)
        });
        async move { done.then_some(spans) }
    })
    .await
    .unwrap_or_else(|| receiver.trace(&trace_id));
    let all = listing(&spans);
    eprintln!(
        "trace {trace_id} ({} spans received in all):\n{all}",
        receiver.count()
    );

    // One trace id holds spans of the gateway, the registry, the ledger and notify.
    let services: BTreeSet<&str> = spans.iter().map(|s| s.service.as_str()).collect();
    assert!(
        wanted.iter().all(|w| services.contains(w)),
        "trace {trace_id} has spans of {services:?}, not of all of {wanted:?} ({} spans \
         received in all):\n{all}\nthe RecordVisit spans received, in whatever trace:\n{}",
        receiver.count(),
        listing(&receiver.named("RecordVisit"))
    );
    let by_id: BTreeMap<&str, &Received> = spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let parent_of = |s: &Received| by_id.get(s.parent.as_str()).copied();

    // HTTP → gateway: the gateway's server span continues the caller's trace.
    let gateway = spans
        .iter()
        .find(|s| s.service == "gateway" && s.name == "POST /v1/registry/RecordVisit")
        .unwrap_or_else(|| panic!("no gateway span for RecordVisit in trace {trace_id}:\n{all}"));
    assert_eq!(
        (gateway.kind, gateway.parent.as_str()),
        ("server", client_span.as_str()),
        "the gateway's span is a server span whose parent is the caller's span \
         {client_span}:\n{all}"
    );

    // Gateway → registry over gRPC: the registry's server span is the gateway span's child.
    let registry = spans
        .iter()
        .find(|s| {
            s.service == "registry" && s.name == "/zoufang.registry.v1.RegistryService/RecordVisit"
        })
        .unwrap_or_else(|| panic!("no registry span for RecordVisit in trace {trace_id}:\n{all}"));
    assert_eq!(
        registry.parent, gateway.span_id,
        "the registry's RecordVisit span is a child of the gateway's span {}:\n{all}",
        gateway.span_id
    );

    // Registry → queue → ledger: the ledger's consume span hangs off the
    // registry span that wrote the event into its outbox: the operation's
    // span (`record`) inside the RecordVisit span.
    let ledger = spans
        .iter()
        .find(|s| s.service == "issues" && s.name == "consume registry.visit.recorded")
        .unwrap_or_else(|| {
            panic!("no ledger span consuming registry.visit.recorded in trace {trace_id}:\n{all}")
        });
    let ledger_parent = parent_of(ledger).unwrap_or_else(|| {
        panic!(
            "the ledger's consume span's parent {} is not a span of trace {trace_id}:\n{all}",
            ledger.parent
        )
    });
    assert_eq!(
        (ledger_parent.service.as_str(), ledger_parent.name.as_str()),
        ("registry", "record"),
        "across the queue, the ledger's consume span's parent is the registry's operation \
         span that enqueued the event:\n{all}"
    );
    assert!(
        within(&spans, ledger_parent, registry),
        "the registry's operation span lies within its RecordVisit span {}:\n{all}",
        registry.span_id
    );

    // Ledger → queue → notify: a consume span of notify hangs off the
    // ledger's span that wrote the event (the operation's span inside its
    // consume span).
    let notified: Vec<&Received> = spans
        .iter()
        .filter(|s| s.service == "notify" && s.name == "consume issues.issue.created")
        .filter(|s| parent_of(s).is_some_and(|p| p.service == "issues"))
        .collect();
    let after_ledger = notified
        .iter()
        .find(|n| within(&spans, n, ledger))
        .unwrap_or_else(|| {
            panic!(
                "across the queue, notify's span consuming issues.issue.created lies within \
                 the ledger's consume span {}:\n{all}",
                ledger.span_id
            )
        });
    let path = chain(&spans, after_ledger);
    eprintln!(
        "path: {}",
        path.iter()
            .map(|s| format!("{} [{}] {}", s.service, s.kind, s.name))
            .collect::<Vec<_>>()
            .join(" → ")
    );

    // Routes of the gateway's own (not transcoded RPCs) have server spans
    // too: the sign-in the set-up made.
    let sign_in = receiver.named("POST /v1/auth/sign-in");
    assert!(
        sign_in
            .iter()
            .any(|s| s.service == "gateway" && s.kind == "server"),
        "no gateway server span for the sign-in:\n{}",
        listing(&sign_in)
    );

    let statuses = stack.stop().await;
    stop_receiver.cancel();
    for (name, status) in statuses {
        assert!(
            status.is_some_and(|s| s.success()),
            "{name} did not exit cleanly on SIGTERM: {status:?}"
        );
    }
}

#[tokio::test]
async fn a_service_flushes_its_spans_when_it_stops() {
    let receiver = Receiver::default();
    let stop_receiver = CancellationToken::new();
    let otlp_port = receiver.serve(stop_receiver.clone()).await;
    let database = unique_name("zft");
    let queue = unique_name("zft");
    // A batch delay of ten minutes: only the shutdown can export the span.
    let env = Env::common(&database)
        .with("GRPC_ADDR", "127.0.0.1:0")
        .with("CONSUMER_QUEUE", queue.clone())
        .with(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{otlp_port}"),
        )
        .with("OTEL_BSP_SCHEDULE_DELAY", "600000");
    let mut registry = Proc::start("registry", &database, env).await;

    let (trace_id, client_span) = new_trace();
    let channel = tonic::transport::Channel::from_shared(registry.grpc_url())
        .expect("uri")
        .connect()
        .await
        .expect("connect to the registry");
    let mut request = Request::new(tonic_health::pb::HealthCheckRequest {
        service: String::new(),
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-{client_span}-01")
            .parse()
            .expect("header"),
    );
    tonic_health::pb::health_client::HealthClient::new(channel)
        .check(request)
        .await
        .expect("health check");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        receiver.trace(&trace_id).is_empty(),
        "nothing is exported before the batch delay or the shutdown"
    );

    let status = registry.stop().await;
    assert!(
        status.is_some_and(|s| s.success()),
        "the registry exits cleanly on SIGTERM: {status:?}\n{}",
        registry.tail(20)
    );
    let spans = eventually(Duration::from_secs(5), || {
        let spans = receiver.trace(&trace_id);
        async move { (!spans.is_empty()).then_some(spans) }
    })
    .await
    .unwrap_or_default();
    zoufang_e2e::delete_consumer_queues(&queue, &zoufang_bus::consumer::default_retry_delays())
        .await;
    stop_receiver.cancel();
    assert!(
        spans.iter().any(|s| s.service == "registry"
            && s.name == "/grpc.health.v1.Health/Check"
            && s.parent == client_span),
        "the registry flushed its span of the health check when it stopped; trace {trace_id} has:\n{}",
        listing(&spans)
    );
}

/// `from` and its ancestors among `spans`, child first, up to the first
/// span whose parent is not among them.
fn chain<'a>(spans: &'a [Received], from: &'a Received) -> Vec<&'a Received> {
    let mut path = vec![from];
    while let Some(parent) = spans
        .iter()
        .find(|s| s.span_id == path[path.len() - 1].parent)
    {
        if path.len() > 64 {
            break; // a cycle: not a path
        }
        path.push(parent);
    }
    path
}

/// True when `ancestor` is `span` or one of its ancestors among `spans`.
fn within(spans: &[Received], span: &Received, ancestor: &Received) -> bool {
    chain(spans, span)
        .iter()
        .any(|s| s.span_id == ancestor.span_id)
}

/// The services along a path, repeats folded (a service's nested spans count once).
fn path_services<'a>(path: &[&'a Received]) -> Vec<&'a str> {
    let mut services: Vec<&str> = path.iter().map(|s| s.service.as_str()).collect();
    services.dedup();
    services
}
