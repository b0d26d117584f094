//! The webhook door: `POST /v1/cases` with a case as JSON (see
//! `domain::inbound`), signed by its source system:
//!
//! - `X-Zoufang-Source`: the registered source system's name;
//! - `X-Zoufang-Timestamp`: unix seconds, within the freshness window;
//! - `X-Zoufang-Signature`: `sha256=hex(HMAC-SHA256(secret, "{ts}.{body}"))`.
//!
//! An unsigned, stale or wrongly signed request is refused (401), and a
//! request whose signature was seen before is refused as a replay (409);
//! neither writes anything. A source re-sending the same case signs it
//! anew and gets `unchanged`.
use axum::{
    Json, Router,
    body::Bytes,
    extract::State as AxumState,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;
use zoufang_runtime::{ServiceError, signing};

use crate::{
    domain::inbound,
    ops::{
        State,
        intake::{Applied, Refused, intake},
    },
    store,
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
    let Some(source_name) = header(&headers, "x-zoufang-source").filter(|s| !s.is_empty()) else {
        return unauthenticated("missing X-Zoufang-Source");
    };
    let (Some(timestamp), Some(signature)) = (
        header(&headers, "x-zoufang-timestamp"),
        header(&headers, "x-zoufang-signature"),
    ) else {
        return unauthenticated("unsigned: send X-Zoufang-Timestamp and X-Zoufang-Signature");
    };
    let source = match store::sources::by_name(&state.pool, source_name).await {
        Ok(Some(s)) => s,
        Ok(None) => return unauthenticated("X-Zoufang-Source is not a registered source system"),
        Err(e) => return service_error(e.into()),
    };
    let Some(secret) = source
        .secret_enc
        .as_deref()
        .and_then(|enc| state.pii.decrypt(enc).ok())
    else {
        return unauthenticated("the source system has no signing secret");
    };
    // Freshness is wall-clock time; the service clock is business time
    // (tests move it through the statutory periods).
    if let Err(e) = signing::verify(
        secret.as_bytes(),
        timestamp,
        signature,
        &body,
        chrono::Utc::now(),
        state.settings.signature_window_secs,
    ) {
        return unauthenticated(&e.to_string());
    }
    let case = match inbound::parse(&body, chrono::Utc::now()) {
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
    match intake(&state, &case, &actor, Some(signature), None).await {
        Ok((row, applied)) => {
            let status = if applied == Applied::Created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (
                status,
                Json(json!({
                    "case_id": row.case_id,
                    "issue_id": row.issue_id,
                    "result": applied.as_str(),
                    "stage": row.stage,
                    "household_matched": row.household_id.is_some(),
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
