//! One JSON error shape for every endpoint:
//! `{"code": "invalid_argument", "message": "…", "field_errors": [{"field", "reason"}]}`,
//! with the HTTP status mapped from the gRPC status the services answered.
use axum::{
    Json,
    response::{IntoResponse, Response},
};
use http::StatusCode;
use serde::Serialize;
use tonic_types::StatusExt;

/// A field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// An error as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    /// Machine-readable: invalid_argument, unauthenticated, permission_denied,
    /// not_found, conflict, failed_precondition, locked, too_many_requests,
    /// unavailable, internal.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub field_errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field_errors: vec![],
        }
    }

    /// A bad field, named.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        let (field, reason) = (field.into(), reason.into());
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_argument",
            message: format!("{field}: {reason}"),
            field_errors: vec![FieldError { field, reason }],
        }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_denied", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// Our database is away (restarting, unreachable): not the request's
    /// fault, so 503 and the client retries; the details go to the log.
    pub fn unavailable(err: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %err, "database unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service is briefly unavailable; retry shortly",
        )
    }

    /// Something failed on our side; the details go to the log only.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it has been logged",
        )
    }
}

impl From<tonic::Status> for ApiError {
    fn from(s: tonic::Status) -> Self {
        use tonic::Code;
        let (status, code) = match s.code() {
            Code::InvalidArgument | Code::OutOfRange => {
                (StatusCode::BAD_REQUEST, "invalid_argument")
            }
            Code::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Code::PermissionDenied => (StatusCode::FORBIDDEN, "permission_denied"),
            Code::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Code::AlreadyExists | Code::Aborted => (StatusCode::CONFLICT, "conflict"),
            Code::FailedPrecondition => (StatusCode::UNPROCESSABLE_ENTITY, "failed_precondition"),
            Code::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            Code::Unimplemented => (StatusCode::NOT_IMPLEMENTED, "unimplemented"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let field_errors = s
            .get_error_details()
            .bad_request()
            .map(|b| {
                b.field_violations
                    .iter()
                    .map(|v| FieldError {
                        field: v.field.clone(),
                        reason: v.description.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(grpc_code = ?s.code(), message = %s.message(), "upstream failed");
        }
        Self {
            status,
            code,
            message: s.message().to_owned(),
            field_errors,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if zoufang_core::db::is_unavailable(&e) {
            return Self::unavailable(e);
        }
        match zoufang_core::error::bad_input_reason(&e) {
            Some(reason) => Self::invalid("request", reason),
            None => Self::internal(e),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        if zoufang_core::db::is_unavailable_cause(&e) {
            return Self::unavailable(format!("{e:#}"));
        }
        Self::internal(format!("{e:#}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}

/// The JSON Schema of the error body, for the OpenAPI document.
pub fn schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "field_errors": {"type": "array", "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}
            }}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_statuses_map_to_http_with_field_errors() {
        let status = tonic::Status::with_error_details(
            tonic::Code::InvalidArgument,
            "bad",
            tonic_types::ErrorDetails::with_bad_request_violation("household.phone", "not a phone"),
        );
        let e = ApiError::from(status);
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "invalid_argument")
        );
        assert_eq!(e.field_errors[0].field, "household.phone");
        let e = ApiError::from(tonic::Status::permission_denied("outside your scope"));
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        let e = ApiError::from(tonic::Status::aborted("stale"));
        assert_eq!(e.status, StatusCode::CONFLICT);
    }
}
