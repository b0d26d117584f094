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

/// Bytes of violations an answer's message carries (percent-encoded in the
/// `grpc-message` header, up to three times as long).
const MESSAGE_BUDGET: usize = 1_000;
/// Bytes of violations an answer's details carry (base64 in the
/// `grpc-status-details-bin` header). Both headers together must stay well
/// under the 16 KiB that HTTP/2 peers accept: a request with hundreds of
/// problems once got a transport error instead of its InvalidArgument.
const DETAILS_BUDGET: usize = 4_000;
/// The longest field path and reason kept of one violation, in bytes.
const MAX_FIELD_BYTES: usize = 128;
const MAX_REASON_BYTES: usize = 300;

/// `s` cut to at most `max` bytes, at a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The leading violations that fit in `budget` bytes (always the first),
/// each clipped, as (field, reason).
fn reported(violations: &[FieldViolation], budget: usize) -> Vec<(&str, &str)> {
    let mut used = 0;
    let mut out = Vec::new();
    for v in violations {
        let (field, reason) = (
            clip(&v.field, MAX_FIELD_BYTES),
            clip(&v.reason, MAX_REASON_BYTES),
        );
        used += field.len() + reason.len() + 4;
        if !out.is_empty() && used > budget {
            break;
        }
        out.push((field, reason));
    }
    out
}

/// The violations that fit, then how many more there are.
fn describe(violations: &[FieldViolation]) -> String {
    let shown = reported(violations, MESSAGE_BUDGET);
    let mut text = shown
        .iter()
        .map(|(field, reason)| format!("{field}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ");
    if shown.len() < violations.len() {
        text.push_str(&format!("; … and {} more", violations.len() - shown.len()));
    }
    text
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
                for (field, reason) in reported(&violations, DETAILS_BUDGET) {
                    details.add_bad_request_violation(field, reason);
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
                // The log names what ran out: our pool, or the server's slots.
                if let Some(reason) = crate::db::unavailable_reason(&err) {
                    tracing::warn!(error = format!("{err:#}"), "{reason}");
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
    fn hundreds_of_violations_fit_in_the_headers() {
        let violations: Vec<FieldViolation> = (0..500)
            .map(|i| FieldViolation {
                field: format!("items[{i}].description"),
                reason: "是必填项".repeat(100),
            })
            .collect();
        let status: Status = ServiceError::InvalidArgument(violations).into();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status
                .message()
                .starts_with("invalid argument: items[0].description")
        );
        assert!(status.message().contains("more"), "{}", status.message());
        assert!(status.message().len() < 1_200, "{}", status.message().len());
        let bad = status
            .get_error_details()
            .bad_request()
            .expect("details")
            .clone();
        assert!(!bad.field_violations.is_empty() && bad.field_violations.len() < 500);
        assert!(bad.field_violations[0].description.len() <= MAX_REASON_BYTES);
        assert!(status.details().len() < 6_000, "{}", status.details().len());
    }

    #[test]
    fn internal_errors_hide_details() {
        let status: Status = ServiceError::Internal(anyhow::anyhow!("password=secret")).into();
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("secret"));
    }
}
