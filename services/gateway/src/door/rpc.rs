//! The generic JSON transcoder: every unary RPC of the four services is
//! served as `POST /v1/<service>/<Method>` with the proto3 JSON mapping,
//! fields named by their proto (snake_case) names on the way out; requests
//! may name them either way (`household_id` or `householdId`).
//! Requests and responses are read and written through the contracts'
//! descriptors (`prost-reflect`), so the HTTP API is the gRPC API, field for
//! field, and cannot drift from it. The caller's own token goes upstream:
//! the services decide what the caller may see, exactly as over gRPC.
use std::{str::FromStr, sync::Arc};

use axum::{
    Json,
    body::Bytes,
    extract::State,
    routing::{MethodRouter, post},
};
use prost::bytes::Buf;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, Kind, MessageDescriptor, SerializeOptions,
};
use tonic::{
    Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    transport::Channel,
};
use tracing::Instrument as _;

use crate::door::{caller::Caller, error::ApiError, state::AppState};

/// One upstream service as the gateway exposes it.
#[derive(Debug, Clone)]
pub struct ServiceEntry {
    /// The path segment: registry, issues, supervision, notify, petition.
    pub short: &'static str,
    /// e.g. `zoufang.registry.v1.RegistryService`.
    pub full_name: String,
    pub methods: Vec<MethodEntry>,
}

/// One unary RPC.
#[derive(Debug, Clone)]
pub struct MethodEntry {
    pub service: &'static str,
    pub name: String,
    /// The gRPC path, `/zoufang.registry.v1.RegistryService/ListHouseholds`.
    pub grpc_path: String,
    pub input: MessageDescriptor,
    pub output: MessageDescriptor,
    /// The first line of the RPC's comment in the .proto: its Chinese
    /// title, the OpenAPI summary.
    pub summary: String,
    /// The rest of the comment, in English: the OpenAPI description.
    pub doc: String,
}

impl MethodEntry {
    /// The HTTP path: `/v1/registry/ListHouseholds`.
    pub fn http_path(&self) -> String {
        format!("/v1/{}/{}", self.service, self.name)
    }
}

/// The services behind the gateway, read from the compiled contracts.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub pool: DescriptorPool,
    pub services: Vec<ServiceEntry>,
}

/// The services exposed, by path segment and full name.
pub const SERVICES: &[(&str, &str)] = &[
    ("registry", "zoufang.registry.v1.RegistryService"),
    ("issues", "zoufang.issues.v1.IssueService"),
    ("supervision", "zoufang.supervision.v1.SupervisionService"),
    ("notify", "zoufang.notify.v1.NotifyService"),
    ("petition", "zoufang.petition.v1.PetitionService"),
];

impl Catalog {
    /// Reads every exposed service's unary RPCs from the descriptor set.
    pub fn load() -> anyhow::Result<Self> {
        let pool = DescriptorPool::decode(zoufang_proto::FILE_DESCRIPTOR_SET)?;
        let mut services = Vec::new();
        for (short, full) in SERVICES {
            let svc = pool
                .get_service_by_name(full)
                .ok_or_else(|| anyhow::anyhow!("service {full} is not in the descriptor set"))?;
            let methods = svc
                .methods()
                .filter(|m| !m.is_client_streaming() && !m.is_server_streaming())
                .map(|m| {
                    let (summary, doc) = comment_of(&m);
                    MethodEntry {
                        service: short,
                        name: m.name().to_owned(),
                        grpc_path: format!("/{}/{}", full, m.name()),
                        input: m.input(),
                        output: m.output(),
                        summary,
                        doc,
                    }
                })
                .collect();
            services.push(ServiceEntry {
                short,
                full_name: (*full).to_owned(),
                methods,
            });
        }
        Ok(Self { pool, services })
    }

    /// Every exposed method.
    pub fn methods(&self) -> impl Iterator<Item = &MethodEntry> {
        self.services.iter().flat_map(|s| s.methods.iter())
    }
}

/// An RPC's comment as (title, description): the contracts write each
/// RPC's Chinese title on the comment's first line and describe it in
/// English on the lines after (a unit test holds every RPC to that).
fn comment_of(m: &prost_reflect::MethodDescriptor) -> (String, String) {
    let comment = leading_comment(&m.parent_file(), m.path()).unwrap_or_default();
    let mut lines = comment.lines().map(str::trim).filter(|l| !l.is_empty());
    let title = lines.next().unwrap_or_default().to_owned();
    (title, lines.collect::<Vec<_>>().join(" "))
}

/// The leading comment of the element at `path` of `file`, if any.
pub fn leading_comment(file: &prost_reflect::FileDescriptor, path: &[i32]) -> Option<String> {
    file.file_descriptor_proto()
        .source_code_info
        .as_ref()?
        .location
        .iter()
        .find(|l| l.path == path)?
        .leading_comments
        .clone()
}

/// Whether the contract marks a request field required: the field option
/// `(zoufang.common.v1.required) = true` (proto/zoufang/common/v1/options.proto).
pub fn is_required(field: &prost_reflect::FieldDescriptor) -> bool {
    let Some(ext) = field
        .parent_pool()
        .get_extension_by_name("zoufang.common.v1.required")
    else {
        return false;
    };
    let options = field.options();
    options.has_extension(&ext) && options.get_extension(&ext).as_bool() == Some(true)
}

/// The upstream channel of a service.
fn channel(state: &AppState, service: &str) -> Channel {
    match service {
        "registry" => state.upstreams.registry.clone(),
        "issues" => state.upstreams.issues.clone(),
        "supervision" => state.upstreams.supervision.clone(),
        "petition" => state.upstreams.petition.clone(),
        _ => state.upstreams.notify.clone(),
    }
}

/// 415 unless a non-empty body is declared as JSON (`application/json`,
/// or a `+json` type); an empty body is the empty message whatever it says.
pub fn require_json(headers: &http::HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let declared = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let essence = declared
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some(t)
            if t == "application/json"
                || (t.starts_with("application/") && t.ends_with("+json")) =>
        {
            Ok(())
        }
        _ => Err(ApiError::unsupported_media_type(declared)),
    }
}

/// Reads a JSON body as the method's input; the error names the field.
/// Unknown fields and enum values are found first, with their path
/// (`recipient.roles[1]`) and, for an enum, the values it takes; what
/// remains (a wrong type, a bad number) is the decoder's to say.
pub fn decode_json(input: &MessageDescriptor, body: &[u8]) -> Result<DynamicMessage, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid("body", format!("不是有效的 JSON：{e}")))?;
    if let Some((field, reason)) = check_message(input, &value, "") {
        return Err(ApiError::invalid(field, reason));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let msg = DynamicMessage::deserialize_with_options(
        input.clone(),
        &mut de,
        &DeserializeOptions::new().deny_unknown_fields(true),
    )
    .and_then(|m| de.end().map(|()| m))
    .map_err(|e| ApiError::invalid("body", format!("不符合 {} 的格式：{e}", input.name())))?;
    Ok(msg)
}

/// The first unknown field or bad enum value in `value` read as a `desc`,
/// as (path, reason).
fn check_message(
    desc: &MessageDescriptor,
    value: &serde_json::Value,
    path: &str,
) -> Option<(String, String)> {
    if desc.full_name().starts_with("google.protobuf.") {
        return None;
    }
    let serde_json::Value::Object(fields) = value else {
        let at = if path.is_empty() { "body" } else { path };
        return Some((at.to_owned(), format!("须为 JSON 对象（{}）", desc.name())));
    };
    for (key, v) in fields {
        let at = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let Some(field) = desc
            .get_field_by_json_name(key)
            .or_else(|| desc.get_field_by_name(key))
        else {
            let known: Vec<_> = desc.fields().map(|f| f.name().to_owned()).collect();
            return Some((
                at,
                format!(
                    "没有这个字段；{} 的字段有：{}",
                    desc.name(),
                    known.join("、")
                ),
            ));
        };
        if v.is_null() || field.is_map() {
            continue;
        }
        let items: Vec<(String, &serde_json::Value)> = match (field.is_list(), v) {
            (true, serde_json::Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| (format!("{at}[{i}]"), item))
                .collect(),
            (true, _) => continue,
            (false, _) => vec![(at, v)],
        };
        for (at, item) in items {
            let bad = match field.kind() {
                Kind::Enum(e) => check_enum(&e, item).map(|reason| (at, reason)),
                Kind::Message(m) => check_message(&m, item, &at),
                _ => None,
            };
            if bad.is_some() {
                return bad;
            }
        }
    }
    None
}

/// Why `value` is not a value of the enum `e` (its name, or its number),
/// listing the names it takes; None when it is one.
pub fn check_enum(e: &prost_reflect::EnumDescriptor, value: &serde_json::Value) -> Option<String> {
    let ok = match value {
        serde_json::Value::String(s) => e.get_value_by_name(s).is_some(),
        serde_json::Value::Number(n) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .is_some_and(|n| e.get_value(n).is_some()),
        _ => false,
    };
    if ok {
        return None;
    }
    let allowed: Vec<_> = e
        .values()
        .filter(|v| v.number() != 0)
        .map(|v| v.name().to_owned())
        .collect();
    Some(format!(
        "无效的取值 {value}；可选值：{}",
        allowed.join("、")
    ))
}

/// Writes a response message as JSON, every field present (defaults too),
/// named by its proto field name (`household_id`, not the proto3 JSON
/// default `householdId`), so the transcoded RPCs speak the same snake_case
/// as every hand-written endpoint. Requests may use either spelling.
pub fn encode_json(msg: &DynamicMessage) -> Result<serde_json::Value, ApiError> {
    let options = SerializeOptions::new()
        .skip_default_fields(false)
        .use_proto_field_name(true);
    msg.serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(ApiError::internal)
}

/// Calls `method` upstream with `msg` as the caller.
pub async fn call(
    state: &AppState,
    caller: &Caller,
    method: &MethodEntry,
    msg: DynamicMessage,
) -> Result<DynamicMessage, ApiError> {
    let mut grpc = tonic::client::Grpc::new(channel(state, method.service))
        .max_decoding_message_size(64 << 20);
    grpc.ready().await.map_err(|e| {
        ApiError::from(Status::unavailable(format!(
            "{} is unreachable: {e}",
            method.service
        )))
    })?;
    let mut request = tonic::Request::new(msg);
    let bearer = format!("Bearer {}", caller.token).parse().map_err(|_| {
        ApiError::unauthenticated("the token has characters not allowed in a header")
    })?;
    request.metadata_mut().insert("authorization", bearer);
    zoufang_core::telemetry::inject_into_metadata(request.metadata_mut());
    let path = http::uri::PathAndQuery::from_str(&method.grpc_path).map_err(ApiError::internal)?;
    let codec = DynamicCodec {
        output: method.output.clone(),
    };
    Ok(grpc.unary(request, path, codec).await?.into_inner())
}

/// The route of one method.
pub fn route(method: Arc<MethodEntry>) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              caller: Caller,
              headers: http::HeaderMap,
              body: Bytes| {
            let method = method.clone();
            // One server span per request, continuing the HTTP caller's trace
            // when it sent a `traceparent`. `call` runs inside it, so
            // `inject_into_metadata` has a context to put into the upstream
            // metadata and the service's gRPC span becomes its child: without
            // a current span nothing was injected and every request started a
            // new trace at the service.
            let span = tracing::info_span!("http", otel.name = %format!("POST {}", method.http_path()),
                otel.kind = "server", http.route = %method.http_path(), rpc.method = %method.grpc_path);
            zoufang_core::telemetry::set_parent_from_http(&span, &headers);
            async move {
                require_json(&headers, &body)?;
                let msg = decode_json(&method.input, &body)?;
                let reply = call(&state, &caller, &method, msg).await?;
                Ok::<_, ApiError>(Json(encode_json(&reply)?))
            }
            .instrument(span)
        },
    )
}

/// Encodes dynamic messages and decodes replies by their descriptor.
#[derive(Debug, Clone)]
pub struct DynamicCodec {
    output: MessageDescriptor,
}

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder(self.output.clone())
    }
}

#[derive(Debug)]
pub struct DynamicEncoder;

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        use prost::Message;
        dst.reserve(item.encoded_len());
        item.encode(dst)
            .map_err(|e| Status::internal(format!("encoding the request: {e}")))
    }
}

#[derive(Debug)]
pub struct DynamicDecoder(MessageDescriptor);

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        let len = src.remaining();
        let msg = DynamicMessage::decode(self.0.clone(), src.copy_to_bytes(len))
            .map_err(|e| Status::internal(format!("decoding the reply: {e}")))?;
        Ok(Some(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_has_every_services_unary_methods() {
        let c = Catalog::load().expect("catalog");
        let paths: Vec<_> = c.methods().map(MethodEntry::http_path).collect();
        assert!(paths.contains(&"/v1/registry/ListHouseholds".to_owned()));
        assert!(paths.contains(&"/v1/issues/GetIssueStatistics".to_owned()));
        assert!(paths.contains(&"/v1/notify/ListInbox".to_owned()));
        assert!(
            !paths.contains(&"/v1/notify/StreamInbox".to_owned()),
            "streams are not JSON"
        );
    }

    #[test]
    fn json_bodies_are_checked_against_the_contract() {
        let c = Catalog::load().expect("catalog");
        let m = c
            .methods()
            .find(|m| m.name == "ListHouseholds")
            .expect("method");
        assert!(
            decode_json(&m.input, b"").is_ok(),
            "an empty body is the empty message"
        );
        let err = decode_json(&m.input, br#"{"noSuchField": 1}"#).expect_err("unknown field");
        assert!(err.message.contains("noSuchField"), "{}", err.message);
        assert!(decode_json(&m.input, b"[1]").is_err());
    }

    #[test]
    fn every_rpc_has_a_chinese_title_and_an_english_description() {
        let c = Catalog::load().expect("catalog");
        let is_cjk = |ch: char| ('\u{4e00}'..='\u{9fff}').contains(&ch);
        for m in c.methods() {
            assert!(
                m.summary.chars().any(is_cjk),
                "{}: the comment's first line is the Chinese title, not {:?}",
                m.grpc_path,
                m.summary
            );
            assert!(
                m.doc.chars().filter(char::is_ascii_alphabetic).count() > 10,
                "{}: the English description is missing: {:?}",
                m.grpc_path,
                m.doc
            );
        }
    }

    #[test]
    fn a_bad_enum_value_names_the_field_and_the_values_it_takes() {
        let c = Catalog::load().expect("catalog");
        let m = c
            .methods()
            .find(|m| m.name == "ListIssues")
            .expect("method");
        let err = decode_json(&m.input, br#"{"state": "SOLVED"}"#).expect_err("bad enum");
        assert_eq!(err.field_errors[0].field, "state");
        let reason = &err.field_errors[0].reason;
        assert!(reason.contains("\"SOLVED\""), "{reason}");
        assert!(reason.contains("ISSUE_STATE_RESOLVED"), "{reason}");
        assert!(reason.contains("可选值"), "{reason}");
        assert!(decode_json(&m.input, br#"{"state": "ISSUE_STATE_RESOLVED"}"#).is_ok());
        assert!(decode_json(&m.input, br#"{"state": 3}"#).is_ok());
        // Nested and repeated: the path says where.
        let m = c
            .methods()
            .find(|m| m.name == "UpsertRecipient")
            .expect("method");
        let err = decode_json(&m.input, br#"{"recipient": {"nope": 1}}"#).expect_err("unknown");
        assert_eq!(err.field_errors[0].field, "recipient.nope");
        let m = c
            .methods()
            .find(|m| m.name == "CreateCampaign")
            .expect("method");
        let err =
            decode_json(&m.input, br#"{"quotas": [{"metric": "X"}]}"#).expect_err("enum in list");
        assert_eq!(err.field_errors[0].field, "quotas[0].metric", "{err:?}");
    }

    #[test]
    fn only_json_bodies_are_read() {
        let mut headers = http::HeaderMap::new();
        assert!(
            require_json(&headers, b"").is_ok(),
            "an empty body needs no type"
        );
        let e = require_json(&headers, b"{}").expect_err("undeclared");
        assert_eq!((e.status.as_u16(), e.code), (415, "unsupported_media_type"));
        headers.insert(
            http::header::CONTENT_TYPE,
            "text/plain".parse().expect("header"),
        );
        let e = require_json(&headers, b"{}").expect_err("text");
        assert!(e.message.contains("text/plain"), "{}", e.message);
        headers.insert(
            http::header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().expect("header"),
        );
        assert!(require_json(&headers, b"{}").is_ok());
    }

    #[test]
    fn required_fields_are_read_from_the_contract() {
        let c = Catalog::load().expect("catalog");
        let m = c
            .methods()
            .find(|m| m.name == "GetHousehold")
            .expect("method");
        let required: Vec<_> = m
            .input
            .fields()
            .filter(is_required)
            .map(|f| f.name().to_owned())
            .collect();
        assert_eq!(required, ["household_id"]);
    }

    #[test]
    fn json_field_names_are_snake_case_out_and_either_spelling_in() {
        let c = Catalog::load().expect("catalog");
        let m = c
            .methods()
            .find(|m| m.name == "ListHouseholds")
            .expect("method");
        let camel = decode_json(&m.input, br#"{"regionCode": "430426", "pageSize": 5}"#)
            .expect("lowerCamelCase is accepted");
        let snake = decode_json(&m.input, br#"{"region_code": "430426", "page_size": 5}"#)
            .expect("snake_case is accepted");
        assert_eq!(camel, snake);
        let out = encode_json(&snake).expect("encode");
        let keys: Vec<_> = out.as_object().expect("object").keys().cloned().collect();
        assert!(keys.contains(&"region_code".to_owned()), "{keys:?}");
        assert!(keys.contains(&"page_size".to_owned()), "{keys:?}");
        assert!(
            keys.iter()
                .all(|k| !k.chars().any(|c| c.is_ascii_uppercase())),
            "{keys:?}"
        );
    }
}
