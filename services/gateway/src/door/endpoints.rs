//! The route table. Every endpoint is declared once, as its path, method,
//! handler and OpenAPI operation together; the router and the OpenAPI
//! document are both built from that one list (plus every RPC of the
//! catalog), so the document cannot describe a route that is not served or
//! miss one that is.
use std::sync::Arc;

use axum::{
    Json, Router,
    response::Html,
    routing::{MethodRouter, get},
};
use prost_reflect::{Kind, MessageDescriptor};
use serde_json::{Map, Value, json};
use tracing::Instrument as _;

use crate::door::{
    rpc::{self, Catalog},
    state::AppState,
};

/// One HTTP endpoint and its documentation.
pub struct Endpoint {
    pub method: http::Method,
    /// Axum and OpenAPI share the `{param}` syntax.
    pub path: String,
    pub route: MethodRouter<AppState>,
    /// The OpenAPI operation object.
    pub operation: Value,
    /// Whether the handler opens its own server span (the transcoded RPCs
    /// do, naming the upstream method); the router gives the others one.
    pub spans_itself: bool,
}

impl Endpoint {
    pub fn new(
        method: http::Method,
        path: &str,
        route: MethodRouter<AppState>,
        operation: Value,
    ) -> Self {
        Self {
            method,
            path: path.to_owned(),
            route,
            operation,
            spans_itself: false,
        }
    }
}

/// What a feature module contributes: its endpoints and the named
/// component schemas they reference.
pub type Module = (Vec<Endpoint>, Vec<(&'static str, Value)>);

/// A `$ref` to a component schema.
pub fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// An OpenAPI operation: tag, its Chinese summary and English description
/// (`(zh, en)`), whether it needs a token, the JSON request body schema,
/// the 200 response schema and parameters.
pub fn op(
    tag: &str,
    (summary, description): (&str, &str),
    auth: bool,
    request: Option<Value>,
    response: Value,
    parameters: Vec<Value>,
) -> Value {
    let mut o = json!({
        "tags": [tag],
        "summary": summary,
        "description": description,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": response}}},
            "400": error_response("Invalid input; field_errors name the fields"),
            "401": error_response("No valid token"),
            "403": error_response("Outside the caller's role or scope"),
            "404": error_response("Not found (or outside the caller's scope)"),
            "409": error_response("Conflict"),
            "413": error_response("The body is over its limit (JSON 1 MiB; files see the route)"),
            "422": error_response("Not allowed in the current state"),
            "429": error_response("Too many requests; retry later"),
            "503": error_response("A service is briefly unavailable; retry shortly"),
        },
    });
    if let Some(schema) = request {
        o["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": schema}}});
        o["responses"]["415"] =
            error_response("The body is not declared as JSON (Content-Type: application/json)");
    }
    if !parameters.is_empty() {
        o["parameters"] = Value::Array(parameters);
    }
    if !auth {
        o["security"] = json!([]);
    }
    o
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema_ref("Error")}}})
}

/// The endpoints every RPC of the catalog gets.
/// The RPCs that carry a file (as base64 in the JSON body): they accept
/// bodies up to [`UPLOAD_RPC_BODY_LIMIT`]; every other JSON body is capped
/// at [`crate::app::JSON_BODY_LIMIT`].
const UPLOAD_RPCS: &[(&str, &str)] = &[("petition", "ImportCases")];

/// A 4 MiB file (the services' gRPC message limit, tonic's default) in base64, and room for the rest.
pub const UPLOAD_RPC_BODY_LIMIT: usize = 6 << 20;

pub fn rpc_endpoints(catalog: &Catalog) -> Vec<Endpoint> {
    catalog
        .methods()
        .map(|m| {
            let description = format!(
                "{} (gRPC `{}`; the proto3 JSON of the request, fields by their proto names.)",
                m.doc, m.grpc_path
            );
            let mut route = rpc::route(Arc::new(m.clone()));
            if UPLOAD_RPCS.contains(&(m.service, m.name.as_str())) {
                route = route.layer(axum::extract::DefaultBodyLimit::max(UPLOAD_RPC_BODY_LIMIT));
            }
            Endpoint {
                method: http::Method::POST,
                path: m.http_path(),
                route,
                operation: op(
                    m.service,
                    (&m.summary, &description),
                    true,
                    Some(schema_ref(m.input.full_name())),
                    schema_ref(m.output.full_name()),
                    vec![],
                ),
                spans_itself: true,
            }
        })
        .collect()
}

/// The router of every endpoint, plus `/openapi.json` and `/docs`.
pub fn router(endpoints: Vec<Endpoint>, document: Value) -> Router<AppState> {
    let page = docs_page(&document);
    let document = Arc::new(document);
    let mut router = Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let d = document.clone();
                async move { Json((*d).clone()) }
            }),
        )
        .route(
            "/docs",
            get(move || {
                let p = page.clone();
                async move { Html(p) }
            }),
        );
    for e in endpoints {
        let route = if e.spans_itself {
            e.route
        } else {
            let name: Arc<str> = format!("{} {}", e.method, e.path).into();
            let template: Arc<str> = e.path.as_str().into();
            e.route.layer(axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| {
                    in_server_span(name.clone(), template.clone(), request, next)
                },
            ))
        };
        router = router.route(&e.path, route);
    }
    router
}

/// Runs a route's handler inside one server span named `<METHOD> <route>`
/// (the route template, not the path: ids stay out of span names),
/// continuing the caller's trace when it sent `traceparent`, so sign-in,
/// import, export and report requests are traced like the RPCs.
async fn in_server_span(
    name: Arc<str>,
    route: Arc<str>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let span = tracing::info_span!("http", otel.name = %name, otel.kind = "server",
        http.route = %route, http.response.status_code = tracing::field::Empty);
    zoufang_core::telemetry::set_parent_from_http(&span, request.headers());
    async move {
        let response = next.run(request).await;
        tracing::Span::current().record("http.response.status_code", response.status().as_u16());
        response
    }
    .instrument(span)
    .await
}

/// The OpenAPI 3.0 document of `endpoints`, with every message schema they
/// reference and the `extra` named schemas.
pub fn document(endpoints: &[Endpoint], catalog: &Catalog, extra: &[(&str, Value)]) -> Value {
    let mut paths = Map::new();
    for e in endpoints {
        let entry = paths.entry(e.path.clone()).or_insert_with(|| json!({}));
        entry[e.method.as_str().to_ascii_lowercase()] = e.operation.clone();
    }
    let mut schemas = Map::new();
    schemas.insert("Error".into(), crate::door::error::schema());
    for (name, schema) in extra {
        schemas.insert((*name).to_owned(), schema.clone());
    }
    for m in catalog.methods() {
        add_message(&mut schemas, &m.input);
        add_message(&mut schemas, &m.output);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Zoufang API (走访平台接口)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "走访平台的 HTTP 接口。Every service RPC as POST /v1/<service>/<Method> with proto3 JSON (fields named by their proto names, snake_case, like every other endpoint; requests may also use the lowerCamelCase names), plus sign-in, accounts, import, export and reports. A region is named by its full 12-digit code or by a prefix of one, everywhere: 430426104000 and 430426104 both mean the township. Every error, whatever its status, is {code, message, field_errors} with a Chinese message."
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
        },
        "security": [{"bearer": []}],
        "paths": paths,
    })
}

/// Adds a message's schema (and, recursively, those it uses).
fn add_message(schemas: &mut Map<String, Value>, m: &MessageDescriptor) {
    let name = m.full_name().to_owned();
    if schemas.contains_key(&name) {
        return;
    }
    if let Some(wkt) = well_known(&name) {
        schemas.insert(name, wkt);
        return;
    }
    // Insert first, so a recursive message does not loop.
    schemas.insert(name.clone(), json!({"type": "object"}));
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in m.fields() {
        let mut s = kind_schema(schemas, &f.kind());
        if f.is_map() {
            let value = match f.kind() {
                Kind::Message(entry) => entry.map_entry_value_field().kind(),
                k => k,
            };
            s = json!({"type": "object", "additionalProperties": kind_schema(schemas, &value)});
        } else if f.is_list() {
            s = json!({"type": "array", "items": s});
        }
        if let Some(doc) = rpc::leading_comment(&f.parent_file(), f.path()) {
            let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
            // Beside a `$ref` an OpenAPI 3.0 schema ignores siblings: wrap it.
            if s.get("$ref").is_some() {
                s = json!({"allOf": [s]});
            }
            s["description"] = Value::String(doc);
        }
        if rpc::is_required(&f) {
            required.push(Value::String(f.name().to_owned()));
        }
        props.insert(f.name().to_owned(), s);
    }
    let mut schema = json!({"type": "object", "additionalProperties": false, "properties": props});
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    if let Some(doc) = rpc::leading_comment(&m.parent_file(), m.path()) {
        schema["description"] = Value::String(doc.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    schemas.insert(name, schema);
}

fn well_known(name: &str) -> Option<Value> {
    Some(match name {
        "google.protobuf.Timestamp" => json!({"type": "string", "format": "date-time"}),
        "google.protobuf.Duration" => {
            json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$"})
        }
        "google.protobuf.Empty" => json!({"type": "object"}),
        _ => return None,
    })
}

fn kind_schema(schemas: &mut Map<String, Value>, kind: &Kind) -> Value {
    match kind {
        Kind::Double | Kind::Float => json!({"type": "number"}),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            json!({"type": "integer", "format": "int32"})
        }
        Kind::Uint32 | Kind::Fixed32 => json!({"type": "integer", "format": "int32", "minimum": 0}),
        // proto3 JSON writes 64-bit integers as strings.
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            json!({"type": "string", "format": "int64", "pattern": "^-?[0-9]{1,18}$"})
        }
        Kind::Uint64 | Kind::Fixed64 => {
            json!({"type": "string", "format": "uint64", "pattern": "^[0-9]{1,19}$"})
        }
        Kind::Bool => json!({"type": "boolean"}),
        Kind::String => json!({"type": "string"}),
        Kind::Bytes => json!({"type": "string", "format": "byte"}),
        Kind::Enum(e) => {
            json!({"type": "string", "enum": e.values().map(|v| v.name().to_owned()).collect::<Vec<_>>()})
        }
        Kind::Message(m) => {
            add_message(schemas, m);
            schema_ref(m.full_name())
        }
    }
}

/// A browsable page of the document: every endpoint with its summary and
/// its request and response schemas.
fn docs_page(doc: &Value) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut rows = String::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, ops) in paths {
            for (method, o) in ops.as_object().into_iter().flatten() {
                let pretty = |v: &Value| esc(&serde_json::to_string_pretty(v).unwrap_or_default());
                rows.push_str(&format!(
                    "<details><summary><code>{}</code> <b>{}</b> — {}</summary><p>{}</p><h4>Request</h4><pre>{}</pre><h4>Response</h4><pre>{}</pre></details>\n",
                    method.to_uppercase(),
                    esc(path),
                    esc(o["summary"].as_str().unwrap_or_default()),
                    esc(o["description"].as_str().unwrap_or_default()),
                    pretty(&o["requestBody"]["content"]["application/json"]["schema"]),
                    pretty(&o["responses"]["200"]["content"]["application/json"]["schema"]),
                ));
            }
        }
    }
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>走访平台接口文档</title>\
         <style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}pre{{background:#f6f6f6;padding:.5em}}</style></head>\
         <body><h1>走访平台接口文档 (Zoufang API)</h1><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>. \
         Send <code>Authorization: Bearer &lt;token&gt;</code> from <code>POST /v1/auth/sign-in</code>.</p>{rows}</body></html>"
    )
}
