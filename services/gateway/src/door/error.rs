//! One JSON error shape for every endpoint:
//! `{"code": "invalid_argument", "message": "…", "field_errors": [{"field", "reason"}]}`,
//! with the HTTP status mapped from the gRPC status the services answered.
//! The message is Chinese: one without Chinese text (a service's English
//! detail) is put after the code's Chinese words ([`chinese_message`]).
//! Errors that never were an `ApiError` (a route that does not exist, a
//! method not allowed, axum's own rejections of a body or a query) are
//! rewritten into the same shape by [`errors_as_json`], so no error
//! leaves the gateway as plain text.
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
    /// Machine-readable: invalid_argument (400), unauthenticated (401),
    /// permission_denied and password_change_required (403), not_found
    /// (404), method_not_allowed (405), conflict (409), payload_too_large
    /// (413), unsupported_media_type (415), failed_precondition (422),
    /// locked (423), too_many_requests (429), internal (500),
    /// unimplemented (501), unavailable (503).
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

    /// A body that is not declared as JSON where JSON is read.
    pub fn unsupported_media_type(got: Option<&str>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "请求体须为 JSON（Content-Type: application/json），收到的是 {}",
                got.unwrap_or("未声明类型的内容")
            ),
        )
    }

    /// A plain-text error response (axum's rejections, a missing route)
    /// as an `ApiError`: the code from the status, the text as the detail
    /// and, for a body that did not parse or did not match, the field.
    pub fn from_plain(status: StatusCode, text: &str) -> Self {
        let text = text.trim();
        match status.as_u16() {
            // Axum's JSON rejections: 400 when the body is not JSON, 422
            // when it does not match the request. Both are bad input, and
            // every bad input is 400 invalid_argument naming the field (422
            // stays failed_precondition, as for the services).
            400 | 422 => {
                let (field, reason) = plain_field_error(text);
                let mut e = Self::invalid(field, reason);
                e.message = format!("请求有误：{}", e.message);
                e
            }
            404 => Self::not_found(format!("没有这个接口{}", detail(text))),
            405 => Self::new(
                status,
                "method_not_allowed",
                format!("该接口不支持这个请求方法{}", detail(text)),
            ),
            413 => Self::new(
                status,
                "payload_too_large",
                "请求体过大：普通请求不能超过 1 MB（导入文件另有上限，见导入接口说明）",
            ),
            415 => Self::new(
                status,
                "unsupported_media_type",
                format!(
                    "请求体须为 JSON（Content-Type: application/json）{}",
                    detail(text)
                ),
            ),
            _ => {
                let code = code_of_status(status);
                Self::new(status, code, chinese_message(code, text))
            }
        }
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
    fn into_response(mut self) -> Response {
        self.message = chinese_message(self.code, &self.message);
        (self.status, Json(&self)).into_response()
    }
}

/// The Chinese words for an error code, for messages that have none.
fn code_in_chinese(code: &str) -> &'static str {
    match code {
        "invalid_argument" => "请求有误",
        "unauthenticated" => "未登录或登录已失效",
        "permission_denied" => "无权进行此操作",
        "password_change_required" => "请先修改密码",
        "not_found" => "未找到",
        "method_not_allowed" => "不支持这个请求方法",
        "conflict" => "与现有数据冲突",
        "payload_too_large" => "请求体过大",
        "unsupported_media_type" => "不支持的内容类型",
        "failed_precondition" => "当前状态不允许此操作",
        "locked" => "账号已锁定",
        "too_many_requests" => "请求过于频繁，请稍后再试",
        "unimplemented" => "不支持此操作",
        "unavailable" => "服务暂时不可用，请稍后重试",
        _ => "内部错误",
    }
}

/// The code a status stands for, where nothing better is known.
fn code_of_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_argument",
        401 => "unauthenticated",
        403 => "permission_denied",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "failed_precondition",
        423 => "locked",
        429 => "too_many_requests",
        501 => "unimplemented",
        502..=504 => "unavailable",
        _ => "internal",
    }
}

/// A message for people: kept when it has Chinese text, else put after
/// the code's Chinese words (`请求有误：household_id: not a UUID`).
pub fn chinese_message(code: &str, message: &str) -> String {
    let is_cjk = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
    let message = message.trim();
    if message.chars().any(is_cjk) {
        message.to_owned()
    } else if message.is_empty() {
        code_in_chinese(code).to_owned()
    } else {
        format!("{}：{message}", code_in_chinese(code))
    }
}

fn detail(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("（{text}）")
    }
}

/// The field a plain rejection names: axum words a JSON body that does not
/// match as `Failed to deserialize the JSON body into the target type:
/// roles[0]: invalid type: …` or `…: missing field `password` at …`; a
/// query as `Failed to deserialize query string: …`.
fn plain_field_error(text: &str) -> (String, String) {
    const JSON_DATA: &str = "Failed to deserialize the JSON body into the target type: ";
    const JSON_SYNTAX: &str = "Failed to parse the request body as JSON: ";
    const QUERY: &str = "Failed to deserialize query string: ";
    let backticked = |s: &str| {
        let start = s.find('`')? + 1;
        let len = s[start..].find('`')?;
        Some(s[start..start + len].to_owned())
    };
    if let Some(rest) = text.strip_prefix(JSON_DATA) {
        for marker in ["missing field ", "unknown field "] {
            if let Some(name) = rest.strip_prefix(marker).and_then(backticked) {
                return (name, rest.to_owned());
            }
        }
        if let Some((path, reason)) = rest.split_once(": ")
            && !path.is_empty()
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c))
        {
            return (path.to_owned(), reason.to_owned());
        }
        return ("body".to_owned(), rest.to_owned());
    }
    if let Some(rest) = text.strip_prefix(JSON_SYNTAX) {
        return ("body".to_owned(), format!("不是有效的 JSON：{rest}"));
    }
    if let Some(rest) = text.strip_prefix(QUERY) {
        let field = rest
            .strip_prefix("unknown field ")
            .or_else(|| rest.strip_prefix("missing field "))
            .and_then(backticked)
            .unwrap_or_else(|| "query".to_owned());
        return (field, rest.to_owned());
    }
    ("request".to_owned(), text.to_owned())
}

/// Rewrites an error response that is not JSON into the error shape (see
/// the module doc); JSON errors and successes pass unchanged. Headers the
/// client needs (`Allow`, `Retry-After`, `WWW-Authenticate`) stay.
pub async fn errors_as_json(response: Response) -> Response {
    let status = response.status();
    let json = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 << 10)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let mut rewritten = ApiError::from_plain(status, &text).into_response();
    for name in [
        http::header::ALLOW,
        http::header::RETRY_AFTER,
        http::header::WWW_AUTHENTICATE,
    ] {
        if let Some(v) = parts.headers.get(&name) {
            rewritten.headers_mut().insert(name, v.clone());
        }
    }
    rewritten
}

/// The JSON Schema of the error body, for the OpenAPI document.
pub fn schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "description": "每个错误的形状 (the shape of every error): code is machine-readable, message is Chinese for people, field_errors name the bad fields of a request.",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "enum": [
                "invalid_argument", "unauthenticated", "permission_denied",
                "password_change_required", "not_found", "method_not_allowed",
                "conflict", "payload_too_large", "unsupported_media_type",
                "failed_precondition", "locked", "too_many_requests",
                "internal", "unimplemented", "unavailable"
            ]},
            "message": {"type": "string", "description": "中文说明 (Chinese, for people)"},
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

    #[test]
    fn messages_are_chinese() {
        assert_eq!(
            chinese_message("invalid_argument", "household_id: not a UUID"),
            "请求有误：household_id: not a UUID"
        );
        assert_eq!(
            chinese_message("locked", "账号已锁定，请 5 分钟后再试"),
            "账号已锁定，请 5 分钟后再试"
        );
        assert_eq!(chinese_message("not_found", ""), "未找到");
    }

    #[test]
    fn plain_rejections_become_the_error_shape() {
        let e = ApiError::from_plain(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Failed to deserialize the JSON body into the target type: missing field `password` at line 1 column 20",
        );
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "invalid_argument")
        );
        assert_eq!(e.field_errors[0].field, "password");
        let e = ApiError::from_plain(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Failed to deserialize the JSON body into the target type: roles[0]: invalid type: integer `1`, expected a string at line 1 column 12",
        );
        assert_eq!(e.field_errors[0].field, "roles[0]");
        let e = ApiError::from_plain(
            StatusCode::BAD_REQUEST,
            "Failed to parse the request body as JSON: EOF while parsing an object at line 1 column 1",
        );
        assert_eq!(e.field_errors[0].field, "body");
        assert!(e.message.starts_with("请求有误"), "{}", e.message);
        let e = ApiError::from_plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Expected request with `Content-Type: application/json`",
        );
        assert_eq!(e.code, "unsupported_media_type");
        assert!(e.message.contains("application/json"), "{}", e.message);
        assert_eq!(
            ApiError::from_plain(StatusCode::NOT_FOUND, "").code,
            "not_found"
        );
        assert_eq!(
            ApiError::from_plain(StatusCode::METHOD_NOT_ALLOWED, "").code,
            "method_not_allowed"
        );
    }
}
