//! One error type for service logic and one mapping to `tonic::Status`.
//!
//! Internal errors are logged with their whole chain and answered with a
//! generic message; field errors become INVALID_ARGUMENT naming the field,
//! with a `google.rpc.BadRequest` detail listing every violation.
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// A field that failed validation: its request path and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Request field path, e.g. `id_number` or `items[1].category`.
    pub field: String,
    /// Human-readable reason.
    pub reason: String,
}

/// What a service operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// One or more request fields are invalid.
    #[error("invalid argument: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// The named thing does not exist (or is outside the caller's scope).
    #[error("not found: {0}")]
    NotFound(String),
    /// A create collided with something that exists and differs.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The operation is not allowed in the current state.
    #[error("failed precondition: {0}")]
    FailedPrecondition(String),
    /// A concurrent change won; the caller should re-read and retry.
    #[error("aborted: {0}")]
    Aborted(String),
    /// No or bad credentials.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// Credentials valid but role or region scope does not allow this.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// Anything else; details are logged, never returned.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Result alias for service operations.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation {
            field: field.into(),
            reason: reason.into(),
        }])
    }

    /// Prefixes every field path with `prefix.` (for nested messages).
    pub fn nest(self, prefix: &str) -> Self {
        match self {
            Self::InvalidArgument(vs) => Self::InvalidArgument(
                vs.into_iter()
                    .map(|v| FieldViolation {
                        field: format!("{prefix}.{}", v.field),
                        reason: v.reason,
                    })
                    .collect(),
            ),
            other => other,
        }
    }
}

/// What the database said about input it could not take (a NUL character
/// in text, a value too long for its column, text that is not a number),
/// which validation upstream should have caught; such errors are the
/// caller's, not ours, so they answer INVALID_ARGUMENT instead of INTERNAL.
pub fn bad_input_reason(e: &sqlx::Error) -> Option<&'static str> {
    let code = e.as_database_error()?.code()?;
    match code.as_ref() {
        // character_not_in_repertoire, untranslatable_character (e.g. U+0000).
        "22021" | "22P05" => Some("text must not contain NUL or unencodable characters"),
        "22001" => Some("a value is too long"),
        "22P02" | "22007" | "22008" | "22003" => Some("a value is malformed or out of range"),
        _ => None,
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        match bad_input_reason(&e) {
            Some(reason) => Self::invalid("request", reason),
            None => Self::Internal(anyhow::Error::new(e)),
        }
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::InvalidArgument(violations) => {
                let mut details = ErrorDetails::new();
                for v in &violations {
                    details.add_bad_request_violation(v.field.clone(), v.reason.clone());
                }
                Status::with_error_details(
                    Code::InvalidArgument,
                    format!("invalid argument: {}", describe(&violations)),
                    details,
                )
            }
            ServiceError::NotFound(m) => Status::not_found(m),
            ServiceError::AlreadyExists(m) => Status::already_exists(m),
            ServiceError::FailedPrecondition(m) => Status::failed_precondition(m),
            ServiceError::Aborted(m) => Status::aborted(m),
            ServiceError::Unauthenticated(m) => Status::unauthenticated(m),
            ServiceError::PermissionDenied(m) => Status::permission_denied(m),
            ServiceError::Internal(err) => {
                if let Some(reason) = err.downcast_ref::<sqlx::Error>().and_then(bad_input_reason) {
                    return ServiceError::invalid("request", reason).into();
                }
                // The database away (restarting, unreachable, the pool
                // exhausted) is not a fault of the request and passes:
                // UNAVAILABLE tells callers to retry (the gateway answers
                // 503), where INTERNAL would say the request itself failed.
                if crate::db::is_unavailable_cause(&err) {
                    tracing::warn!(error = format!("{err:#}"), "database unavailable");
                    return Status::unavailable("the database is unavailable; retry shortly");
                }
                tracing::error!(error = format!("{err:#}"), "internal error");
                Status::internal("internal error")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_that_is_away_answers_unavailable_not_internal() {
        let away: Status = ServiceError::from(sqlx::Error::PoolTimedOut).into();
        assert_eq!(away.code(), Code::Unavailable);
        let wrapped: Status = ServiceError::Internal(
            anyhow::Error::new(sqlx::Error::PoolClosed).context("recording the visit"),
        )
        .into();
        assert_eq!(wrapped.code(), Code::Unavailable);
        let failed: Status = ServiceError::from(sqlx::Error::RowNotFound).into();
        assert_eq!(failed.code(), Code::Internal);
    }

    #[test]
    fn field_errors_name_the_field() {
        let status: Status = ServiceError::invalid("id_number", "checksum digit does not match")
            .nest("household")
            .into();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("household.id_number"));
        let details = status.get_error_details();
        let bad = details.bad_request().expect("bad request detail");
        assert_eq!(bad.field_violations[0].field, "household.id_number");
    }

    #[test]
    fn internal_errors_hide_details() {
        let status: Status = ServiceError::Internal(anyhow::anyhow!("password=secret")).into();
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("secret"));
    }
}
