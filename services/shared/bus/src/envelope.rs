//! The event envelope: CloudEvents attributes (id, source, type, time,
//! subject) carried both in AMQP basic properties (message_id, app_id, type,
//! timestamp) and as `ce-*` headers, plus the routing key, the county the
//! event belongs to (the future shard key) and the W3C trace context.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeZone, Utc};
use lapin::{
    BasicProperties,
    types::{AMQPValue, FieldTable, LongString, ShortString},
};
use uuid::Uuid;

/// Header carrying the event's routing key: retries re-route a message
/// through the default exchange, so the delivery's own key is not the type.
pub const ROUTING_KEY_HEADER: &str = "zf-routing-key";
/// Header carrying the 6-digit county code the event belongs to.
pub const COUNTY_HEADER: &str = "zf-county";
/// Header counting delivery attempts made by our consumers.
pub const ATTEMPT_HEADER: &str = "zf-attempt";
/// Header with the last processing error, set on retried and parked messages.
pub const ERROR_HEADER: &str = "zf-last-error";

/// Everything about an event except its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// CloudEvents `id`; consumers deduplicate on it.
    pub id: Uuid,
    /// CloudEvents `source`, e.g. `/zoufang/registry`.
    pub source: String,
    /// Routing key `<service>.<entity>.<verb>`; the CloudEvents `type` is
    /// this key prefixed with `zoufang.`.
    pub routing_key: String,
    /// CloudEvents `subject`, e.g. `visits/<uuid>`.
    pub subject: String,
    /// CloudEvents `time`.
    pub time: DateTime<Utc>,
    /// 6-digit county code.
    pub county: String,
    /// W3C trace context headers (`traceparent`, `tracestate`).
    pub trace: HashMap<String, String>,
    /// How many times our consumers already failed on it.
    pub attempt: u32,
}

impl Envelope {
    /// The CloudEvents `type` attribute.
    pub fn ce_type(&self) -> String {
        format!("zoufang.{}", self.routing_key)
    }

    /// AMQP properties for publishing: persistent, protobuf content type.
    pub fn to_properties(&self) -> BasicProperties {
        let mut headers = FieldTable::default();
        let mut put = |k: &str, v: &str| {
            headers.insert(k.into(), AMQPValue::LongString(LongString::from(v)));
        };
        put("ce-specversion", "1.0");
        put("ce-id", &self.id.to_string());
        put("ce-source", &self.source);
        put("ce-type", &self.ce_type());
        put("ce-subject", &self.subject);
        put("ce-time", &self.time.to_rfc3339());
        put(ROUTING_KEY_HEADER, &self.routing_key);
        put(COUNTY_HEADER, &self.county);
        for (k, v) in &self.trace {
            put(k, v);
        }
        headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongUInt(self.attempt));
        BasicProperties::default()
            .with_message_id(ShortString::from(self.id.to_string()))
            .with_app_id(ShortString::from(self.source.clone()))
            .with_type(ShortString::from(self.ce_type()))
            .with_timestamp(u64::try_from(self.time.timestamp()).unwrap_or_default())
            .with_content_type("application/protobuf".into())
            .with_delivery_mode(2)
            .with_headers(headers)
    }

    /// Reads an envelope back from delivered properties; `Err` names what is
    /// missing or malformed (such a message is parked, not retried).
    pub fn from_properties(props: &BasicProperties, delivery_key: &str) -> Result<Self, String> {
        let headers = props
            .headers()
            .as_ref()
            .map(headers_to_map)
            .unwrap_or_default();
        let id = props
            .message_id()
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .or_else(|| headers.get("ce-id").cloned())
            .ok_or("message has no id")?;
        let id =
            Uuid::parse_str(&id).map_err(|e| format!("message id {id:?} is not a UUID: {e}"))?;
        let routing_key = headers
            .get(ROUTING_KEY_HEADER)
            .cloned()
            .unwrap_or_else(|| delivery_key.to_owned());
        let time = headers
            .get("ce-time")
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| {
                props
                    .timestamp()
                    .and_then(|t| Utc.timestamp_opt(i64::try_from(t).ok()?, 0).single())
            })
            .unwrap_or_else(Utc::now);
        let attempt = props
            .headers()
            .as_ref()
            .and_then(|h| h.inner().get(ATTEMPT_HEADER))
            .and_then(amqp_u32)
            .unwrap_or(0);
        let trace = headers
            .iter()
            .filter(|(k, _)| k.as_str() == "traceparent" || k.as_str() == "tracestate")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Self {
            id,
            source: headers.get("ce-source").cloned().unwrap_or_default(),
            routing_key,
            subject: headers.get("ce-subject").cloned().unwrap_or_default(),
            time,
            county: headers.get(COUNTY_HEADER).cloned().unwrap_or_default(),
            trace,
            attempt,
        })
    }
}

fn amqp_u32(v: &AMQPValue) -> Option<u32> {
    match v {
        AMQPValue::LongUInt(n) => Some(*n),
        AMQPValue::LongInt(n) => u32::try_from(*n).ok(),
        AMQPValue::LongLongInt(n) => u32::try_from(*n).ok(),
        AMQPValue::ShortUInt(n) => Some(u32::from(*n)),
        AMQPValue::ShortShortUInt(n) => Some(u32::from(*n)),
        _ => None,
    }
}

/// The string-valued headers of a table (others are skipped).
pub fn headers_to_map(table: &FieldTable) -> HashMap<String, String> {
    let inner: &BTreeMap<ShortString, AMQPValue> = table.inner();
    inner
        .iter()
        .filter_map(|(k, v)| {
            let s = match v {
                AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
                AMQPValue::ShortString(s) => s.as_str().to_owned(),
                _ => return None,
            };
            Some((k.as_str().to_owned(), s))
        })
        .collect()
}

/// Returns `props` with `key` set to a string header value.
pub fn with_header(props: BasicProperties, key: &str, value: AMQPValue) -> BasicProperties {
    let mut headers = props.headers().clone().unwrap_or_default();
    headers.insert(key.into(), value);
    props.with_headers(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_through_properties() {
        let env = Envelope {
            id: Uuid::now_v7(),
            source: "/zoufang/registry".into(),
            routing_key: zoufang_proto::catalogue::registry::VISIT_RECORDED.into(),
            subject: "visits/abc".into(),
            time: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
            county: "370102".into(),
            trace: HashMap::from([(
                "traceparent".into(),
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
            )]),
            attempt: 2,
        };
        let props = env.to_properties();
        assert_eq!(props.delivery_mode(), &Some(2));
        let back = Envelope::from_properties(&props, "svc.events").unwrap();
        assert_eq!(back, env);
        assert_eq!(back.ce_type(), "zoufang.registry.visit.recorded");
    }

    #[test]
    fn message_without_id_is_refused() {
        let err = Envelope::from_properties(&BasicProperties::default(), "x").unwrap_err();
        assert!(err.contains("no id"));
    }
}
