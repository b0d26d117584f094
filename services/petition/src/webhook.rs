//! The webhook door: `POST /v1/cases` with a case as JSON (see
//! `domain::inbound`), signed by its source system:
//!
//! - `X-Zoufang-Source`: the registered source system's name;
//! - `X-Zoufang-Timestamp`: unix seconds, within the freshness window;
//! - `X-Zoufang-Signature`: `sha256=hex(HMAC-SHA256(secret, "{ts}.{body}"))`.
//!
//! An unsigned, stale or wrongly signed request is refused (401), and a
//! request whose MAC was seen before (in any spelling) is refused as a
//! replay (409); neither writes anything. A source re-sending the same case
//! signs it anew and gets `unchanged`. The answer (ids, result, stage) is
//! the same whether or not the petitioner matched a household.
use axum::{
    Json, Router,
    body::Bytes,
    extract::State as AxumState,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;
use zoufang_core::ServiceError;

use crate::{
    domain::inbound,
    ops::{
        State,
        intake::{Applied, Refused, intake},
    },
    signed::{self, Authentic, Signed},
};

/// The webhook's routes.
pub fn router(state: State) -> Router {
    Router::new()
        .route("/v1/cases", post(receive))
        .with_state(state)
}

fn reply(status: StatusCode, code: &str, message: &str, fields: serde_json::Value) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "field_errors": fields})),
    )
        .into_response()
}

fn unauthenticated(message: &str) -> Response {
    reply(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        message,
        json!([]),
    )
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn service_error(e: ServiceError) -> Response {
    match e {
        ServiceError::InvalidArgument(vs) => {
            let fields: Vec<_> = vs
                .iter()
                .map(|v| json!({"field": v.field, "reason": v.reason}))
                .collect();
            let message = vs
                .iter()
                .map(|v| format!("{}: {}", v.field, v.reason))
                .collect::<Vec<_>>()
                .join("; ");
            reply(
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                &message,
                json!(fields),
            )
        }
        ServiceError::Aborted(m) => reply(StatusCode::CONFLICT, "aborted", &m, json!([])),
        ServiceError::Internal(e) => {
            tracing::error!(error = %format!("{e:#}"), "webhook intake failed");
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "try again later",
                json!([]),
            )
        }
        other => reply(
            StatusCode::BAD_REQUEST,
            "failed_precondition",
            &other.to_string(),
            json!([]),
        ),
    }
}

async fn receive(AxumState(state): AxumState<State>, headers: HeaderMap, body: Bytes) -> Response {
    let signed = Signed {
        source: header(&headers, signed::HEADER_SOURCE),
        timestamp: header(&headers, signed::HEADER_TIMESTAMP),
        signature: header(&headers, signed::HEADER_SIGNATURE),
    };
    let Authentic { source, mac } = match signed::authenticate(&state, signed, &body).await {
        Ok(Ok(a)) => a,
        Ok(Err(why)) => return unauthenticated(&why.to_string()),
        Err(e) => return service_error(e),
    };
    let case = match inbound::parse(&body, state.wall.now()) {
        Ok(c) => c,
        Err(e) => return service_error(e),
    };
    if case.source_system != source.source_system {
        return service_error(ServiceError::invalid(
            "source_system",
            "differs from X-Zoufang-Source",
        ));
    }
    let actor = format!("webhook:{}", source.source_system);
    match intake(&state, &case, &actor, Some(&mac), None).await {
        Ok((row, applied)) => {
            let status = if applied == Applied::Created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            // Nothing here depends on whether the petitioner matched a
            // household: the sender learns the case's ids and stage only.
            (
                status,
                Json(json!({
                    "case_id": row.case_id,
                    "issue_id": row.issue_id,
                    "result": applied.as_str(),
                    "stage": row.stage,
                })),
            )
                .into_response()
        }
        Err(Refused::Replay) => reply(
            StatusCode::CONFLICT,
            "replayed",
            "this signed request was already received; sign each delivery anew",
            json!([]),
        ),
        Err(Refused::Service(e)) => service_error(e),
    }
}
