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
//! Failures are [`SendError`]s with a short reason for admins (status or
//! errcode, never secrets or phone numbers) and whether retrying can help:
//! connection errors, timeouts, 5xx, 408 and 429 are retryable; other 4xx
//! (and redirects, which are not followed) are permanent; robot errcodes for
//! a bad key or a malformed message are permanent, rate limits retryable.

use std::{fmt, time::Duration};

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

mod classify;
#[cfg(test)]
use classify::vendor_message;
pub use classify::*;

pub use zoufang_runtime::signing::{HEADER_SIGNATURE, HEADER_TIMESTAMP};
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
    /// Short and human-readable, with the status or errcode; shown to admins.
    pub reason: String,
    /// true when retrying cannot help (4xx other than 408/429, robot errcode for bad key/format)
    pub permanent: bool,
}

impl SendError {
    /// A failure that a later attempt may get past.
    pub fn retryable(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            permanent: false,
        }
    }

    /// A failure that retrying cannot help.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            permanent: true,
        }
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
    zoufang_runtime::signing::sign(secret.as_bytes(), timestamp, body)
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
    zoufang_runtime::signing::verify(
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

/// Sends built requests; one per service (reuses connections).
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    timeout: Duration,
}

impl Sender {
    /// `timeout` bounds each request. Installs the ring rustls provider once (ignore "already installed").
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        // Err only means a provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A robot or webhook URL that redirects is misconfigured; following
            // it would turn the POST into a GET and carry the body elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("zoufang-notify/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, timeout })
    }

    /// POSTs the request; Ok on success as the channel defines it.
    pub async fn send(
        &self,
        target_kind: TargetKind,
        req: &OutboundRequest,
    ) -> Result<(), SendError> {
        let mut builder = self.client.post(&req.url).body(req.body.clone());
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| SendError::retryable(transport_reason(&e, self.timeout)))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BYTES.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() >= MAX_RESPONSE_BYTES {
                        break;
                    }
                }
                Ok(None) => break,
                // A success status whose answer cannot be read: robots and SMS
                // need the answer, so that is retryable; a webhook's 2xx suffices.
                Err(e) if (200..300).contains(&status) && target_kind != TargetKind::Webhook => {
                    return Err(SendError::retryable(format!(
                        "HTTP {status}, answer unreadable: {}",
                        transport_reason(&e, self.timeout)
                    )));
                }
                Err(_) => break,
            }
        }
        classify_response(target_kind, status, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::{Value, json};

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap()
    }

    fn message(urgent: bool) -> Message {
        Message {
            delivery_id: uuid::Uuid::parse_str("0190f2a0-0000-7000-8000-000000000001").unwrap(),
            kind: "issue.assigned".into(),
            title: "问题已分派".into(),
            body: "城关镇东街村 王某某 家庭的住房问题已分派给你。".into(),
            sms_text: "【走访】有一条新分派的问题待处理。".into(),
            link: "https://zoufang.example/issues/42".into(),
            subject_type: "issue".into(),
            subject_id: "42".into(),
            region_code: "110101001001".into(),
            urgent,
            created_at: at(1_714_521_000),
        }
    }

    fn body_json(req: &OutboundRequest) -> Value {
        serde_json::from_slice(&req.body).unwrap()
    }

    #[test]
    fn dingtalk_sign_matches_known_vectors() {
        // Computed independently with python3:
        //   s = f"{ts}\n{secret}"
        //   d = hmac.new(secret.encode(), s.encode(), hashlib.sha256).digest()
        //   urllib.parse.quote_plus(base64.b64encode(d))
        // with ts = 1714521600000.
        assert_eq!(
            dingtalk_sign("SEC9f2e", 1_714_521_600_000),
            "g0XbTWsoTpj9XsQtmYD04yB15Xk%2BRQT%2FhOgos0w%2FH6U%3D"
        );
        assert_eq!(
            dingtalk_sign("SECabc", 1_714_521_600_000),
            "DclNF0FnfHgWVQJZ00rjgE4%2Bg%2BABQ4rFQqOAKWi0Twg%3D"
        );
    }

    #[test]
    fn webhook_signature_matches_known_vector() {
        // python3: hmac.new(b"whsec", b'1714521600.{"a":1}', hashlib.sha256).hexdigest()
        assert_eq!(
            webhook_signature("whsec", 1_714_521_600, br#"{"a":1}"#),
            "sha256=95e79a78acd02ee660a340d6d1c8507843f118ba5fd4ad13dcf4cdb9487eb3ef"
        );
    }

    #[test]
    fn webhook_signature_round_trips_and_rejects_tampering() {
        let now = at(1_714_521_600);
        let target = Target::Webhook {
            url: "https://receiver.example/hook".into(),
            secret: "s3cret".into(),
        };
        let req = build_request(&target, &message(false), now);
        let ts = req.header(HEADER_TIMESTAMP).unwrap().to_owned();
        let sig = req.header(HEADER_SIGNATURE).unwrap().to_owned();
        assert_eq!(ts, "1714521600");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);

        assert!(verify_webhook("s3cret", &ts, &sig, &req.body, now, 300));
        // Within tolerance either side.
        assert!(verify_webhook(
            "s3cret",
            &ts,
            &sig,
            &req.body,
            at(1_714_521_900),
            300
        ));
        assert!(verify_webhook(
            "s3cret",
            &ts,
            &sig,
            &req.body,
            at(1_714_521_300),
            300
        ));

        let mut changed = req.body.clone();
        changed[10] ^= 1;
        assert!(!verify_webhook("s3cret", &ts, &sig, &changed, now, 300));
        assert!(!verify_webhook("wrong", &ts, &sig, &req.body, now, 300));
        // Stale (and too far in the future).
        assert!(!verify_webhook(
            "s3cret",
            &ts,
            &sig,
            &req.body,
            at(1_714_521_901),
            300
        ));
        assert!(!verify_webhook(
            "s3cret",
            &ts,
            &sig,
            &req.body,
            at(1_714_521_299),
            300
        ));
        // A changed timestamp breaks the signature even when fresh.
        assert!(!verify_webhook(
            "s3cret",
            "1714521601",
            &sig,
            &req.body,
            now,
            300
        ));
        // Malformed headers.
        assert!(!verify_webhook("s3cret", "soon", &sig, &req.body, now, 300));
        assert!(!verify_webhook(
            "s3cret",
            &ts,
            &sig[7..],
            &req.body,
            now,
            300
        ));
        assert!(!verify_webhook(
            "s3cret",
            &ts,
            "sha256=zz",
            &req.body,
            now,
            300
        ));
    }

    #[test]
    fn webhook_body_and_headers() {
        let now = at(1_714_521_600);
        let msg = message(true);
        let target = Target::Webhook {
            url: "https://receiver.example/hook".into(),
            secret: "s3cret".into(),
        };
        let req = build_request(&target, &msg, now);
        assert_eq!(req.url, "https://receiver.example/hook");
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(
            req.header(HEADER_DELIVERY),
            Some("0190f2a0-0000-7000-8000-000000000001")
        );
        assert_eq!(
            req.header(HEADER_SIGNATURE).unwrap(),
            webhook_signature("s3cret", 1_714_521_600, &req.body)
        );
        assert_eq!(
            body_json(&req),
            json!({
                "delivery_id": "0190f2a0-0000-7000-8000-000000000001",
                "kind": "issue.assigned",
                "title": "问题已分派",
                "body": "城关镇东街村 王某某 家庭的住房问题已分派给你。",
                "link": "https://zoufang.example/issues/42",
                "subject_type": "issue",
                "subject_id": "42",
                "region_code": "110101001001",
                "urgent": true,
                "created_at": "2024-04-30T23:50:00Z",
            })
        );
        // The SMS text is not part of a webhook.
        assert!(!String::from_utf8(req.body).unwrap().contains("【走访】"));
    }

    #[test]
    fn wecom_markdown_shape() {
        let target = Target::WeCom {
            url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1".into(),
        };
        let req = build_request(&target, &message(false), at(0));
        assert_eq!(
            req.url,
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1"
        );
        assert_eq!(req.header("Content-Type"), Some("application/json"));
        assert_eq!(
            body_json(&req),
            json!({
                "msgtype": "markdown",
                "markdown": {
                    "content": "**问题已分派**\n城关镇东街村 王某某 家庭的住房问题已分派给你。\n[查看详情](https://zoufang.example/issues/42)"
                }
            })
        );
        let urgent = build_request(&target, &message(true), at(0));
        let content = body_json(&urgent)["markdown"]["content"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(content.ends_with("\n<font color=\"warning\">紧急</font>"));
    }

    #[test]
    fn dingtalk_markdown_shape_and_unsigned_url() {
        let target = Target::DingTalk {
            url: "https://oapi.dingtalk.com/robot/send?access_token=t1".into(),
            secret: None,
        };
        let req = build_request(&target, &message(false), at(1_714_521_600));
        assert_eq!(
            req.url,
            "https://oapi.dingtalk.com/robot/send?access_token=t1"
        );
        assert_eq!(req.header("Content-Type"), Some("application/json"));
        assert_eq!(
            body_json(&req),
            json!({
                "msgtype": "markdown",
                "markdown": {
                    "title": "问题已分派",
                    "text": "#### 问题已分派\n城关镇东街村 王某某 家庭的住房问题已分派给你。\n\n[查看详情](https://zoufang.example/issues/42)"
                }
            })
        );
        let urgent = build_request(&target, &message(true), at(0));
        assert!(
            body_json(&urgent)["markdown"]["text"]
                .as_str()
                .unwrap()
                .starts_with("#### 【紧急】问题已分派\n")
        );
    }

    #[test]
    fn dingtalk_signed_url_with_and_without_query() {
        let now = at(1_714_521_600);
        let sign = "g0XbTWsoTpj9XsQtmYD04yB15Xk%2BRQT%2FhOgos0w%2FH6U%3D";
        let signed = |url: &str| {
            let target = Target::DingTalk {
                url: url.into(),
                secret: Some("SEC9f2e".into()),
            };
            build_request(&target, &message(false), now).url
        };
        assert_eq!(
            signed("https://oapi.dingtalk.com/robot/send?access_token=t1"),
            format!(
                "https://oapi.dingtalk.com/robot/send?access_token=t1&timestamp=1714521600000&sign={sign}"
            )
        );
        assert_eq!(
            signed("http://127.0.0.1:9/robot/send"),
            format!("http://127.0.0.1:9/robot/send?timestamp=1714521600000&sign={sign}")
        );
        assert_eq!(
            signed("http://127.0.0.1:9/robot/send?"),
            format!("http://127.0.0.1:9/robot/send?timestamp=1714521600000&sign={sign}")
        );
    }

    #[test]
    fn sms_body_and_headers() {
        let target = Target::Sms {
            url: "https://sms.example/v1/send".into(),
            token: "tok-1".into(),
            sign_name: "县走访办".into(),
            phone: "13800138000".into(),
        };
        let req = build_request(&target, &message(false), at(0));
        assert_eq!(req.url, "https://sms.example/v1/send");
        assert_eq!(req.header("authorization"), Some("Bearer tok-1"));
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(
            body_json(&req),
            json!({
                "phone": "13800138000",
                "sign_name": "县走访办",
                "text": "【走访】有一条新分派的问题待处理。",
                "request_id": "0190f2a0-0000-7000-8000-000000000001",
            })
        );
        assert_eq!(target.kind(), TargetKind::Sms);
    }

    #[test]
    fn debug_hides_secrets() {
        let targets = [
            Target::Sms {
                url: "https://sms.example/send?appkey=AK".into(),
                token: "tok-1".into(),
                sign_name: "县走访办".into(),
                phone: "13800138000".into(),
            },
            Target::WeCom {
                url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1".into(),
            },
            Target::DingTalk {
                url: "https://oapi.dingtalk.com/robot/send?access_token=t1".into(),
                secret: Some("SEC9f2e".into()),
            },
            Target::Webhook {
                url: "https://receiver.example/hook".into(),
                secret: "s3cret".into(),
            },
        ];
        for target in &targets {
            let req = build_request(target, &message(false), at(1_714_521_600));
            for text in [format!("{target:?}"), format!("{req:?}")] {
                for secret in [
                    "AK",
                    "tok-1",
                    "13800138000",
                    "k-1",
                    "t1",
                    "SEC9f2e",
                    "s3cret",
                ] {
                    assert!(!text.contains(secret), "{text} shows {secret}");
                }
            }
        }
    }

    #[test]
    fn status_classification() {
        for ok in [200, 201, 204, 299] {
            assert!(classify_response(TargetKind::Webhook, ok, b"").is_ok());
        }
        for retry in [500, 502, 503, 504, 408, 429] {
            let err = classify_response(TargetKind::Webhook, retry, b"").unwrap_err();
            assert!(!err.permanent, "{retry}");
            assert!(err.reason.contains(&retry.to_string()), "{}", err.reason);
        }
        for perm in [400, 401, 403, 404, 410, 413, 301, 302] {
            let err = classify_response(TargetKind::Webhook, perm, b"").unwrap_err();
            assert!(err.permanent, "{perm}");
            assert!(err.reason.contains(&perm.to_string()), "{}", err.reason);
        }
        let err = classify_response(TargetKind::WeCom, 503, b"").unwrap_err();
        assert_eq!(err.reason, "HTTP 503 Service Unavailable");
        // A robot's 4xx is permanent whatever the body.
        let err = classify_response(TargetKind::DingTalk, 404, br#"{"errcode":0}"#).unwrap_err();
        assert!(err.permanent);
    }

    #[test]
    fn wecom_errcode_classification() {
        let answer = |code: i64, msg: &str| {
            classify_response(
                TargetKind::WeCom,
                200,
                json!({"errcode": code, "errmsg": msg})
                    .to_string()
                    .as_bytes(),
            )
        };
        assert!(answer(0, "ok").is_ok());
        let err = answer(
            93000,
            "invalid webhook url, hint: [1714521600_abc], from ip: 1.2.3.4, more info at https://open.work.weixin.qq.com/devtool/query?e=93000",
        )
        .unwrap_err();
        assert!(err.permanent);
        assert_eq!(err.reason, "errcode 93000: invalid webhook url");
        assert!(answer(40008, "invalid message type").unwrap_err().permanent);
        assert!(answer(40058, "invalid parameter").unwrap_err().permanent);
        let err = answer(45009, "api freq out of limit").unwrap_err();
        assert!(!err.permanent);
        assert_eq!(err.reason, "errcode 45009: api freq out of limit");
        assert!(!answer(-1, "system busy").unwrap_err().permanent);
        // 2xx without an errcode is not a success for a robot.
        let err = classify_response(TargetKind::WeCom, 200, b"<html>").unwrap_err();
        assert!(!err.permanent);
    }

    #[test]
    fn dingtalk_errcode_classification() {
        let answer = |code: i64, msg: &str| {
            classify_response(
                TargetKind::DingTalk,
                200,
                json!({"errcode": code, "errmsg": msg})
                    .to_string()
                    .as_bytes(),
            )
        };
        assert!(answer(0, "ok").is_ok());
        let err = answer(310000, "sign not match").unwrap_err();
        assert!(err.permanent);
        assert_eq!(err.reason, "errcode 310000: sign not match");
        assert!(answer(300001, "token is not exist").unwrap_err().permanent);
        let err = answer(130101, "send too fast").unwrap_err();
        assert!(!err.permanent);
        assert_eq!(err.reason, "errcode 130101: send too fast");
        // errcode as a string is understood too.
        assert!(classify_response(TargetKind::DingTalk, 200, br#"{"errcode":"0"}"#).is_ok());
    }

    #[test]
    fn sms_answer_classification() {
        let sms = |body: &[u8]| classify_response(TargetKind::Sms, 200, body);
        assert!(sms(b"").is_ok());
        assert!(sms(b"accepted").is_ok());
        assert!(sms(br#"{"request_id":"x"}"#).is_ok());
        assert!(sms(br#"{"code":"OK"}"#).is_ok());
        assert!(sms(br#"{"code":0}"#).is_ok());
        let err =
            sms(br#"{"code":"isv.MOBILE_NUMBER_ILLEGAL","message":"invalid mobile 13800138000"}"#)
                .unwrap_err();
        assert!(err.permanent);
        assert_eq!(
            err.reason,
            "code isv.MOBILE_NUMBER_ILLEGAL: invalid mobile ***"
        );
        let err = sms(br#"{"code":"isv.BUSINESS_LIMIT_CONTROL","msg":"too many"}"#).unwrap_err();
        assert!(!err.permanent);
        assert_eq!(err.reason, "code isv.BUSINESS_LIMIT_CONTROL: too many");
        let err = sms(br#"{"code":1001}"#).unwrap_err();
        assert_eq!(err.reason, "code 1001: no message");
        assert!(
            !classify_response(TargetKind::Sms, 429, b"")
                .unwrap_err()
                .permanent
        );
    }

    #[test]
    fn vendor_messages_are_short_and_masked() {
        let long = "x".repeat(300);
        let cut = vendor_message(&long);
        assert_eq!(cut.chars().count(), MAX_VENDOR_MESSAGE_CHARS + 1);
        assert_eq!(vendor_message("phone 13800138000 bad"), "phone *** bad");
        assert_eq!(vendor_message("errcode 45009"), "errcode 45009");
    }

    #[test]
    fn target_kinds() {
        assert_eq!(
            Target::WeCom { url: String::new() }.kind(),
            TargetKind::WeCom
        );
        assert_eq!(
            Target::DingTalk {
                url: String::new(),
                secret: None
            }
            .kind(),
            TargetKind::DingTalk
        );
        assert_eq!(
            Target::Webhook {
                url: String::new(),
                secret: String::new()
            }
            .kind(),
            TargetKind::Webhook
        );
    }

    #[tokio::test]
    async fn sender_reports_connection_failures_as_retryable_without_the_url() {
        // Port 9 (discard) on localhost is closed in test environments.
        let sender = Sender::new(Duration::from_secs(2)).unwrap();
        let req = OutboundRequest {
            url: "http://127.0.0.1:9/cgi-bin/webhook/send?key=SECRETKEY".into(),
            headers: vec![json_header()],
            body: b"{}".to_vec(),
        };
        let err = sender.send(TargetKind::WeCom, &req).await.unwrap_err();
        assert!(!err.permanent);
        assert!(!err.reason.contains("SECRETKEY"), "{}", err.reason);
        assert!(
            err.reason.starts_with("connection failed"),
            "{}",
            err.reason
        );
    }
}
