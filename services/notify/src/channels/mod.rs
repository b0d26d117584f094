//! Outbound delivery channels (外发渠道): the wire formats of each channel and
//! the HTTP sender that posts them.
//!
//! Building a request is pure ([`build_request`] turns a [`Target`] and a
//! rendered [`Message`] into an [`OutboundRequest`] at a given instant), so
//! every format is unit-tested without a network; [`Sender`] only POSTs and
//! classifies the answer with the pure [`classify_response`].
//!
//! Formats (all `POST`, UTF-8 JSON bodies):
//!
//! - **WeCom group robot (企业微信群机器人)** — the robot's webhook URL
//!   (`…/cgi-bin/webhook/send?key=…`), body
//!   `{"msgtype":"markdown","markdown":{"content":"**title**\nbody\n[查看详情](link)"}}`,
//!   plus a `<font color="warning">紧急</font>` line when urgent. Success is
//!   HTTP 2xx *and* `errcode == 0` in the JSON answer.
//! - **DingTalk group robot (钉钉群机器人)** — the robot's URL
//!   (`…/robot/send?access_token=…`); with a signing secret (加签) the query
//!   gets `timestamp={ms}&sign={urlencode(base64(HMAC-SHA256(secret, "{ms}\n{secret}")))}`.
//!   Body `{"msgtype":"markdown","markdown":{"title":…,"text":"#### title\nbody\n\n[查看详情](link)"}}`.
//!   Success is HTTP 2xx *and* `errcode == 0`.
//! - **Generic webhook (通用 Webhook)** — body is a JSON object with the
//!   delivery id, kind, title, body, link, subject, region, urgency and
//!   creation time (RFC 3339); headers `X-Zoufang-Timestamp` (unix seconds),
//!   `X-Zoufang-Signature: sha256=hex(HMAC-SHA256(secret, "{timestamp}.{body}"))`
//!   over the exact body bytes, and `X-Zoufang-Delivery` (the delivery id, so
//!   receivers can drop repeats). Receivers check with [`verify_webhook`].
//!   Success is any 2xx.
//! - **SMS provider (短信)** — `Authorization: Bearer {token}`, body
//!   `{"phone","sign_name","text","request_id"}` where `request_id` is the
//!   delivery id. Success is 2xx and, when the answer has a `code`, `"OK"` or 0.
//!
//! Failures are [`SendError`]s with a short, generic reason for admins
//! (status, errcode or kind of failure; never the receiver's words, secrets
//! or phone numbers — those go to the log as `detail`) and whether retrying
//! can help:
//! connection errors, timeouts, 5xx, 408 and 429 are retryable; other 4xx
//! (and redirects, which are not followed) are permanent; robot errcodes for
//! a bad key or a malformed message are permanent, rate limits retryable.

use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

mod classify;
mod sender;
#[cfg(test)]
use classify::vendor_message;
pub use classify::*;
pub use sender::Sender;

pub use zoufang_bus::signing::{HEADER_SIGNATURE, HEADER_TIMESTAMP};
/// Header carrying the delivery id of a generic webhook.
pub const HEADER_DELIVERY: &str = "X-Zoufang-Delivery";

/// The link text under each robot message ("view details").
const DETAILS: &str = "查看详情";
/// The most of a vendor's answer that is read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// The longest vendor message kept in a failure reason.
const MAX_VENDOR_MESSAGE_CHARS: usize = 100;

/// What is being delivered (already rendered from templates; Chinese text).
#[derive(Debug, Clone)]
pub struct Message {
    pub delivery_id: uuid::Uuid,
    /// e.g. "issue.assigned"
    pub kind: String,
    pub title: String,
    pub body: String,
    /// The SMS text (used only by [`Target::Sms`]).
    pub sms_text: String,
    /// URL of the subject in the web app.
    pub link: String,
    /// issue, callback, visit, petition, digest
    pub subject_type: String,
    pub subject_id: String,
    pub region_code: String,
    pub urgent: bool,
    pub created_at: DateTime<Utc>,
}

/// Where it goes.
///
/// `Debug` hides tokens, secrets, phone numbers and URL queries (robot keys).
#[derive(Clone)]
pub enum Target {
    /// An SMS through an HTTP provider.
    Sms {
        url: String,
        token: String,
        sign_name: String,
        phone: String,
    },
    /// WeCom (企业微信) group robot webhook URL (…/cgi-bin/webhook/send?key=…).
    WeCom { url: String },
    /// DingTalk (钉钉) group robot (…/robot/send?access_token=…); signed when secret is Some.
    DingTalk { url: String, secret: Option<String> },
    /// Generic webhook signed with HMAC-SHA256.
    Webhook { url: String, secret: String },
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Sms { url, sign_name, .. } => f
                .debug_struct("Sms")
                .field("url", &redact_url(url))
                .field("token", &"***")
                .field("sign_name", sign_name)
                .field("phone", &"***")
                .finish(),
            Target::WeCom { url } => f
                .debug_struct("WeCom")
                .field("url", &redact_url(url))
                .finish(),
            Target::DingTalk { url, secret } => f
                .debug_struct("DingTalk")
                .field("url", &redact_url(url))
                .field("secret", &secret.as_ref().map(|_| "***"))
                .finish(),
            Target::Webhook { url, .. } => f
                .debug_struct("Webhook")
                .field("url", &redact_url(url))
                .field("secret", &"***")
                .finish(),
        }
    }
}

/// The channel of a [`Target`], which decides what counts as success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Sms,
    WeCom,
    DingTalk,
    Webhook,
}

impl Target {
    /// The channel of this target.
    pub fn kind(&self) -> TargetKind {
        match self {
            Target::Sms { .. } => TargetKind::Sms,
            Target::WeCom { .. } => TargetKind::WeCom,
            Target::DingTalk { .. } => TargetKind::DingTalk,
            Target::Webhook { .. } => TargetKind::Webhook,
        }
    }
}

/// A fully built HTTP request (pure data, so it is unit-testable).
///
/// `Debug` hides the URL query, credential headers and the body (which may
/// hold a phone number); it shows the body's length.
#[derive(Clone, PartialEq)]
pub struct OutboundRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl OutboundRequest {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for OutboundRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let secret = n.eq_ignore_ascii_case("authorization")
                    || n.eq_ignore_ascii_case(HEADER_SIGNATURE);
                (n.as_str(), if secret { "***" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("OutboundRequest")
            .field("url", &redact_url(&self.url))
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A URL with its query (where robots carry their keys) replaced by `***`.
fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?***"),
        None => url.to_owned(),
    }
}

/// Why a send failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    /// Short and generic — the status, errcode or kind of failure, never the
    /// receiver's own words, secrets or phone numbers; shown to admins (the
    /// URL is theirs, so the answer must not become a way to read it).
    pub reason: String,
    /// true when retrying cannot help (4xx other than 408/429, robot errcode for bad key/format)
    pub permanent: bool,
    /// What else is known (the vendor's message, the connection error), for
    /// operators' logs only.
    pub detail: String,
}

impl SendError {
    /// A failure that a later attempt may get past.
    pub fn retryable(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            permanent: false,
            detail: String::new(),
        }
    }

    /// A failure that retrying cannot help.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            permanent: true,
            detail: String::new(),
        }
    }

    /// The same failure with `detail` for the logs.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

// ---------------------------------------------------------------------------
// Building requests
// ---------------------------------------------------------------------------

#[derive(Serialize)]
struct WeComBody<'a> {
    msgtype: &'static str,
    markdown: WeComMarkdown<'a>,
}

#[derive(Serialize)]
struct WeComMarkdown<'a> {
    content: &'a str,
}

#[derive(Serialize)]
struct DingTalkBody<'a> {
    msgtype: &'static str,
    markdown: DingTalkMarkdown<'a>,
}

#[derive(Serialize)]
struct DingTalkMarkdown<'a> {
    title: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
struct WebhookBody<'a> {
    delivery_id: uuid::Uuid,
    kind: &'a str,
    title: &'a str,
    body: &'a str,
    link: &'a str,
    subject_type: &'a str,
    subject_id: &'a str,
    region_code: &'a str,
    urgent: bool,
    created_at: String,
}

#[derive(Serialize)]
struct SmsBody<'a> {
    phone: &'a str,
    sign_name: &'a str,
    text: &'a str,
    request_id: uuid::Uuid,
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain structs (strings, bools, uuids) cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn json_header() -> (String, String) {
    ("Content-Type".into(), "application/json".into())
}

/// The WeCom markdown content: bold title, body, details link, and an urgent
/// line in the warning colour when urgent.
fn wecom_content(msg: &Message) -> String {
    let mut content = format!("**{}**\n{}\n[{DETAILS}]({})", msg.title, msg.body, msg.link);
    if msg.urgent {
        content.push_str("\n<font color=\"warning\">紧急</font>");
    }
    content
}

/// The DingTalk markdown text: level-4 heading, body, details link (and an
/// urgent marker in the heading when urgent).
fn dingtalk_text(msg: &Message) -> String {
    let urgent = if msg.urgent { "【紧急】" } else { "" };
    format!(
        "#### {urgent}{}\n{}\n\n[{DETAILS}]({})",
        msg.title, msg.body, msg.link
    )
}

/// `url` with `timestamp` and `sign` appended to its query (`?` when it has none).
fn dingtalk_signed_url(url: &str, secret: &str, timestamp_ms: i64) -> String {
    let sep = if url.ends_with('?') || url.ends_with('&') {
        ""
    } else if url.contains('?') {
        "&"
    } else {
        "?"
    };
    format!(
        "{url}{sep}timestamp={timestamp_ms}&sign={}",
        dingtalk_sign(secret, timestamp_ms)
    )
}

/// Builds the request for `target` at `now` (timestamps for signatures come from `now`).
pub fn build_request(target: &Target, msg: &Message, now: DateTime<Utc>) -> OutboundRequest {
    match target {
        Target::WeCom { url } => OutboundRequest {
            url: url.clone(),
            headers: vec![json_header()],
            body: to_json(&WeComBody {
                msgtype: "markdown",
                markdown: WeComMarkdown {
                    content: &wecom_content(msg),
                },
            }),
        },
        Target::DingTalk { url, secret } => OutboundRequest {
            url: match secret {
                Some(secret) => dingtalk_signed_url(url, secret, now.timestamp_millis()),
                None => url.clone(),
            },
            headers: vec![json_header()],
            body: to_json(&DingTalkBody {
                msgtype: "markdown",
                markdown: DingTalkMarkdown {
                    title: &msg.title,
                    text: &dingtalk_text(msg),
                },
            }),
        },
        Target::Webhook { url, secret } => {
            let body = to_json(&WebhookBody {
                delivery_id: msg.delivery_id,
                kind: &msg.kind,
                title: &msg.title,
                body: &msg.body,
                link: &msg.link,
                subject_type: &msg.subject_type,
                subject_id: &msg.subject_id,
                region_code: &msg.region_code,
                urgent: msg.urgent,
                created_at: msg.created_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            });
            let timestamp = now.timestamp();
            OutboundRequest {
                url: url.clone(),
                headers: vec![
                    json_header(),
                    (HEADER_TIMESTAMP.into(), timestamp.to_string()),
                    (
                        HEADER_SIGNATURE.into(),
                        webhook_signature(secret, timestamp, &body),
                    ),
                    (HEADER_DELIVERY.into(), msg.delivery_id.to_string()),
                ],
                body,
            }
        }
        Target::Sms {
            url,
            token,
            sign_name,
            phone,
        } => OutboundRequest {
            url: url.clone(),
            headers: vec![
                ("Authorization".into(), format!("Bearer {token}")),
                json_header(),
            ],
            body: to_json(&SmsBody {
                phone,
                sign_name,
                text: &msg.sms_text,
                request_id: msg.delivery_id,
            }),
        },
    }
}

// ---------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------

/// hex(HMAC-SHA256(secret, "{timestamp}.{body}")), prefixed "sha256=" (the
/// runtime's one webhook signing scheme).
pub fn webhook_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    zoufang_bus::signing::sign(secret.as_bytes(), timestamp, body)
}

/// DingTalk's sign: urlencode(base64(HMAC-SHA256(key=secret, msg="{timestamp_ms}\n{secret}"))).
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    let b64 = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    url_encode(&b64)
}

/// Percent-encodes everything but unreserved characters (as `quote_plus`
/// does for base64 output: `+` → `%2B`, `/` → `%2F`, `=` → `%3D`).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Verifies a generic-webhook request (for receivers and tests): signature matches and |now - ts| <= tolerance.
pub fn verify_webhook(
    secret: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance_secs: i64,
) -> bool {
    zoufang_bus::signing::verify(
        secret.as_bytes(),
        timestamp_header,
        signature_header,
        body,
        now,
        tolerance_secs,
    )
    .is_ok()
}

// ---------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests;
