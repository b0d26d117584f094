//! Classifying what a channel answered: success, a failure worth retrying
//! (timeouts, 5xx, 408/429, vendor rate limits), or a permanent one (other
//! 4xx, a robot's bad key or malformed message), with a short reason for
//! admins that never carries secrets or phone numbers.
use std::time::Duration;

use super::{MAX_VENDOR_MESSAGE_CHARS, SendError, TargetKind};

/// Whether an HTTP status is worth retrying: 5xx, 408 (timeout) and 429
/// (rate limit). Other non-2xx statuses are permanent.
pub fn status_is_retryable(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

/// Whether a WeCom robot errcode means retrying cannot help (bad key, bad
/// or oversized message). Rate limits (45009), "system busy" (-1) and codes
/// not listed are retryable.
pub fn wecom_errcode_is_permanent(errcode: i64) -> bool {
    matches!(
        errcode,
        93000 // invalid webhook url (key wrong or robot removed)
            | 40008 // invalid message type
            | 40058 // invalid parameter (malformed message)
            | 44004 // empty text
            | 45002 // message too large
    )
}

/// Whether a DingTalk robot errcode means retrying cannot help (signature,
/// keyword or IP check failed, bad token, malformed message). Rate limits
/// (130101), "system busy" (-1) and codes not listed are retryable.
pub fn dingtalk_errcode_is_permanent(errcode: i64) -> bool {
    matches!(
        errcode,
        310000 // sign not match / keywords not in content / ip not in whitelist
            | 300001 // token invalid
            | 300005 // token does not exist
            | 40035 // missing parameter
            | 43004 // invalid HTTP header content-type
    )
}

/// Whether an SMS provider's non-OK `code` is worth retrying: only codes that
/// read like throttling or a busy provider; others (bad number, template,
/// signature, balance) are permanent.
fn sms_code_is_retryable(code: &str) -> bool {
    let code = code.to_ascii_uppercase();
    ["LIMIT", "THROTTL", "BUSY", "TIMEOUT", "FLOW", "FREQ"]
        .iter()
        .any(|hint| code.contains(hint))
}

/// A vendor's message cut to what helps an admin: before WeCom's `, hint:`
/// tail, at most [`MAX_VENDOR_MESSAGE_CHARS`] characters, and with long
/// digit runs (phone numbers) masked.
pub(super) fn vendor_message(raw: &str) -> String {
    let raw = raw.split(", hint:").next().unwrap_or(raw).trim();
    let mut out = String::new();
    let mut digits = String::new();
    let flush = |out: &mut String, digits: &mut String| {
        if digits.chars().count() >= 7 {
            out.push_str("***");
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in raw.chars().take(MAX_VENDOR_MESSAGE_CHARS) {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut out, &mut digits);
            out.push(c);
        }
    }
    flush(&mut out, &mut digits);
    if raw.chars().count() > MAX_VENDOR_MESSAGE_CHARS {
        out.push('…');
    }
    out
}

fn json_i64(value: &serde_json::Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The reason for a non-2xx status, e.g. "HTTP 503 Service Unavailable".
fn status_reason(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(text) => format!("HTTP {status} {text}"),
        None => format!("HTTP {status}"),
    }
}

/// Decides whether a channel's answer (status and body) is a success, and if
/// not, why and whether to retry. Pure, so it is testable without a network.
pub fn classify_response(kind: TargetKind, status: u16, body: &[u8]) -> Result<(), SendError> {
    if !(200..300).contains(&status) {
        let reason = status_reason(status);
        return Err(if status_is_retryable(status) {
            SendError::retryable(reason)
        } else {
            // Other 4xx, and 3xx (redirects are not followed).
            SendError::permanent(reason)
        });
    }
    let json = || serde_json::from_slice::<serde_json::Value>(body).ok();
    match kind {
        TargetKind::Webhook => Ok(()),
        TargetKind::WeCom | TargetKind::DingTalk => {
            let Some(errcode) = json().and_then(|v| {
                let code = v.get("errcode").and_then(json_i64)?;
                let msg = v
                    .get("errmsg")
                    .and_then(|m| m.as_str())
                    .unwrap_or_default()
                    .to_owned();
                Some((code, msg))
            }) else {
                return Err(SendError::retryable(format!(
                    "HTTP {status} without an errcode in the answer"
                )));
            };
            let (code, msg) = errcode;
            if code == 0 {
                return Ok(());
            }
            let permanent = match kind {
                TargetKind::WeCom => wecom_errcode_is_permanent(code),
                _ => dingtalk_errcode_is_permanent(code),
            };
            // The errcode is the robot's documented answer; its message
            // could be anything a URL's owner wrote, so it goes to the log.
            Err(SendError {
                reason: format!("errcode {code}"),
                permanent,
                detail: vendor_message(&msg),
            })
        }
        TargetKind::Sms => {
            let Some(v) = json() else { return Ok(()) };
            let Some(code) = v.get("code") else {
                return Ok(());
            };
            let ok = match code {
                serde_json::Value::String(s) => s.eq_ignore_ascii_case("OK") || s.trim() == "0",
                serde_json::Value::Number(n) => n.as_i64() == Some(0),
                _ => false,
            };
            if ok {
                return Ok(());
            }
            let code_text = match code {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let message = ["message", "msg", "Message", "errmsg"]
                .iter()
                .find_map(|k| v.get(*k).and_then(|m| m.as_str()))
                .unwrap_or("no message");
            // The SMS provider is the operator's (configuration), not a
            // caller's URL: its message may be shown.
            let reason = format!(
                "code {}: {}",
                vendor_message(&code_text),
                vendor_message(message)
            );
            Err(SendError {
                permanent: !sms_code_is_retryable(&code_text),
                reason,
                detail: String::new(),
            })
        }
    }
}

/// A transport failure: a generic reason (the kind of failure) and, for the
/// log, the innermost cause ("Connection refused (os error 111)"), both
/// without the URL (robot keys live in it).
pub(super) fn transport_failure(err: &reqwest::Error, timeout: Duration) -> SendError {
    let mut innermost = None;
    let mut next = std::error::Error::source(err);
    while let Some(cause) = next {
        innermost = Some(cause);
        next = cause.source();
    }
    let detail = innermost
        .map(|c| vendor_message(&c.to_string()))
        .unwrap_or_default();
    let reason = if err.is_timeout() {
        format!("timed out after {}s", timeout.as_secs_f32())
    } else if err.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    SendError::retryable(reason).with_detail(detail)
}
