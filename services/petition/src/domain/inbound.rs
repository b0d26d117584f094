//! The documented JSON schema of an inbound case, its validation, and the
//! webhook's signature check.
//!
//! A case, as petition systems and hotlines send it:
//!
//! ```json
//! {
//!   "external_id": "XF-2026-000123",          // the case's id in the source system
//!   "source_system": "county-xinfang",        // a registered source system
//!   "kind": "petition",                       // petition (信访件) | hotline (12345 工单)
//!   "channel": "网上",                         // 来信 | 来访 | 网上 | 电话
//!   "sequence": 1,                            // update order of this case at the source
//!   "petitioner": {"name": "唐某", "id_number": "430426…", "phone": "139…"},
//!   "region_code": "430426104201",
//!   "content": "反映宅基地纠纷……",
//!   "received_at": "2026-11-29T08:00:00+08:00",
//!   "attachments": [{"name": "照片1.jpg", "ref": "https://…/a.jpg"}]
//! }
//! ```
//!
//! Webhook requests carry `X-Zoufang-Timestamp` (unix seconds) and
//! `X-Zoufang-Signature: sha256=hex(HMAC-SHA256(secret, "{timestamp}.{body}"))`
//! — the same scheme the notification service signs its own webhooks with.
use chrono::{DateTime, Utc};
use serde::Deserialize;
use zoufang_core::{ServiceError, error::FieldViolation};
use zoufang_types::{IdNumber, MobilePhone, RegionCode};

/// The channels a case can arrive by.
pub const CHANNELS: &[&str] = &["来信", "来访", "网上", "电话"];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPetitioner {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttachment {
    pub name: String,
    #[serde(rename = "ref")]
    pub reference: String,
}

/// A case as received, before validation (from the JSON schema above, or
/// built from a row of a batch file).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    #[serde(default)]
    pub external_id: String,
    #[serde(default)]
    pub source_system: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub sequence: u64,
    pub petitioner: Option<RawPetitioner>,
    #[serde(default)]
    pub region_code: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub received_at: String,
    #[serde(default)]
    pub attachments: Vec<RawAttachment>,
}

/// A validated case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub external_id: String,
    pub source_system: String,
    pub hotline: bool,
    pub channel: String,
    pub sequence: u64,
    pub petitioner_name: String,
    /// Checked; the service keeps only its keyed hash and a masked form.
    pub id_number: Option<IdNumber>,
    pub phone: Option<MobilePhone>,
    pub region: RegionCode,
    pub content: String,
    pub received_at: DateTime<Utc>,
    pub attachments: Vec<(String, String)>,
}

fn text(violations: &mut Vec<FieldViolation>, field: &str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.is_empty() {
        violations.push(FieldViolation {
            field: field.into(),
            reason: "required".into(),
        });
    } else if v.chars().count() > max {
        violations.push(FieldViolation {
            field: field.into(),
            reason: format!("at most {max} characters"),
        });
    }
    v.to_owned()
}

fn note(violations: &mut Vec<FieldViolation>, err: ServiceError) {
    if let ServiceError::InvalidArgument(vs) = err {
        violations.extend(vs);
    }
}

/// Parses and checks a case; every bad field is named.
pub fn parse(body: &[u8], now: DateTime<Utc>) -> Result<Case, ServiceError> {
    let raw: RawCase = serde_json::from_slice(body)
        .map_err(|e| ServiceError::invalid("body", format!("not a case: {e}")))?;
    validate(raw, now).map_err(ServiceError::InvalidArgument)
}

/// Checks a case however it arrived; every bad field is named by its path
/// in the JSON schema (`petitioner.id_number`, `attachments[0].ref` …).
/// `now` decides what lies in the future (the received time, a birth date
/// in the ID number, in China's calendar).
pub fn validate(raw: RawCase, now: DateTime<Utc>) -> Result<Case, Vec<FieldViolation>> {
    let mut v = Vec::new();
    let external_id = text(&mut v, "external_id", &raw.external_id, 100);
    let source_system = text(&mut v, "source_system", &raw.source_system, 64);
    let hotline = match raw.kind.as_str() {
        "petition" => false,
        "hotline" => true,
        _ => {
            v.push(FieldViolation {
                field: "kind".into(),
                reason: "petition or hotline".into(),
            });
            false
        }
    };
    if !CHANNELS.contains(&raw.channel.as_str()) {
        v.push(FieldViolation {
            field: "channel".into(),
            reason: format!("one of {}", CHANNELS.join(" ")),
        });
    }
    let content = text(&mut v, "content", &raw.content, 5000);
    let petitioner = raw.petitioner.unwrap_or_default();
    let petitioner_name = text(&mut v, "petitioner.name", &petitioner.name, 50);
    let id_number = if petitioner.id_number.trim().is_empty() {
        None
    } else {
        let china_today = zoufang_types::beijing::date_of(now);
        IdNumber::parse_on(
            "petitioner.id_number",
            petitioner.id_number.trim(),
            china_today,
        )
        .map_err(|e| note(&mut v, e))
        .ok()
    };
    let phone = if petitioner.phone.trim().is_empty() {
        None
    } else {
        MobilePhone::parse("petitioner.phone", petitioner.phone.trim())
            .map_err(|e| note(&mut v, e))
            .ok()
    };
    let region = RegionCode::parse("region_code", raw.region_code.trim())
        .map_err(|e| note(&mut v, e))
        .ok();
    let received_at = match DateTime::parse_from_rfc3339(raw.received_at.trim()) {
        Ok(t) if t.with_timezone(&Utc) <= now + chrono::Duration::minutes(5) => {
            Some(t.with_timezone(&Utc))
        }
        Ok(_) => {
            v.push(FieldViolation {
                field: "received_at".into(),
                reason: "lies in the future".into(),
            });
            None
        }
        Err(_) => {
            v.push(FieldViolation {
                field: "received_at".into(),
                reason: "an RFC 3339 time, e.g. 2026-11-29T08:00:00+08:00".into(),
            });
            None
        }
    };
    let mut attachments = Vec::new();
    for (i, a) in raw.attachments.iter().enumerate() {
        let name = text(&mut v, &format!("attachments[{i}].name"), &a.name, 200);
        let reference = text(&mut v, &format!("attachments[{i}].ref"), &a.reference, 1000);
        attachments.push((name, reference));
    }
    match (region, received_at) {
        (Some(region), Some(received_at)) if v.is_empty() => Ok(Case {
            external_id,
            source_system,
            hotline,
            channel: raw.channel,
            sequence: raw.sequence,
            petitioner_name,
            id_number,
            phone,
            region,
            content,
            received_at,
            attachments,
        }),
        _ => Err(v),
    }
}

/// The webhook's signature check: the runtime's one signing scheme.
pub use zoufang_bus::signing::{SignatureError, verify};

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn good() -> serde_json::Value {
        json!({
            "external_id": "XF-2026-000123", "source_system": "county-xinfang",
            "kind": "petition", "channel": "网上", "sequence": 1,
            "petitioner": {"name": "唐某", "id_number": "", "phone": "13912345678"},
            "region_code": "430426104201", "content": "反映宅基地纠纷",
            "received_at": "2026-11-29T08:00:00+08:00",
            "attachments": [{"name": "照片1.jpg", "ref": "https://files.example/a.jpg"}]
        })
    }

    fn fields(err: ServiceError) -> Vec<String> {
        match err {
            ServiceError::InvalidArgument(vs) => vs.into_iter().map(|v| v.field).collect(),
            other => vec![other.to_string()],
        }
    }

    #[test]
    fn a_good_case_parses() {
        let c = parse(good().to_string().as_bytes(), now());
        let c = c.map_err(|e| e.to_string());
        assert_eq!(c.as_ref().map(|c| c.hotline), Ok(false));
        assert_eq!(c.map(|c| c.attachments.len()), Ok(1));
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = good();
        bad["kind"] = json!("letter");
        bad["channel"] = json!("邮件");
        bad["region_code"] = json!("4304");
        bad["petitioner"]["phone"] = json!("123");
        bad["received_at"] = json!("2026-12-29T08:00:00+08:00");
        bad["content"] = json!(" ");
        let err = parse(bad.to_string().as_bytes(), now()).expect_err("bad");
        let f = fields(err);
        for want in [
            "kind",
            "channel",
            "region_code",
            "petitioner.phone",
            "received_at",
            "content",
        ] {
            assert!(f.iter().any(|x| x == want), "{want} not in {f:?}");
        }
        let mut unknown = good();
        unknown["extra"] = json!(1);
        assert_eq!(
            fields(parse(unknown.to_string().as_bytes(), now()).expect_err("unknown")),
            vec!["body"]
        );
    }

    #[test]
    fn a_case_built_in_code_goes_through_the_same_checks() {
        let raw = RawCase {
            external_id: "GD-1".into(),
            source_system: "hotline-12345".into(),
            kind: "hotline".into(),
            channel: "电话".into(),
            sequence: 2,
            petitioner: Some(RawPetitioner {
                name: "王某".into(),
                id_number: "43042620260101123".into(),
                ..RawPetitioner::default()
            }),
            region_code: "430426104201".into(),
            content: "噪音扰民".into(),
            received_at: "2026-11-29T08:00:00+08:00".into(),
            attachments: vec![RawAttachment::default()],
        };
        let fields: Vec<String> = validate(raw.clone(), now())
            .expect_err("bad")
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            vec![
                "petitioner.id_number",
                "attachments[0].name",
                "attachments[0].ref"
            ]
        );
        let ok = RawCase {
            petitioner: None,
            attachments: vec![],
            ..raw
        };
        let errs = validate(ok, now()).expect_err("no petitioner name");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "petitioner.name");
    }
}
