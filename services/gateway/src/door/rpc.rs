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
    DescriptorPool, DeserializeOptions, DynamicMessage, MessageDescriptor, SerializeOptions,
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
    /// The RPC's comment in the .proto, for the OpenAPI summary.
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
                .map(|m| MethodEntry {
                    service: short,
                    name: m.name().to_owned(),
                    grpc_path: format!("/{}/{}", full, m.name()),
                    input: m.input(),
                    output: m.output(),
                    doc: comment_of(&m),
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

fn comment_of(m: &prost_reflect::MethodDescriptor) -> String {
    m.parent_file()
        .file_descriptor_proto()
        .source_code_info
        .as_ref()
        .and_then(|info| {
            info.location
                .iter()
                .find(|l| l.path == m.path())
                .and_then(|l| l.leading_comments.clone())
        })
        .map(|c| c.trim().replace('\n', " "))
        .unwrap_or_default()
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

/// Reads a JSON body as the method's input; the error names the field.
pub fn decode_json(input: &MessageDescriptor, body: &[u8]) -> Result<DynamicMessage, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let msg = DynamicMessage::deserialize_with_options(
        input.clone(),
        &mut de,
        &DeserializeOptions::new().deny_unknown_fields(true),
    )
    .and_then(|m| de.end().map(|()| m))
    .map_err(|e| ApiError::invalid("body", format!("not a valid {}: {e}", input.name())))?;
    Ok(msg)
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
