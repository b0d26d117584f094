//! A collector of field violations, so that a request is refused once with
//! every problem named (`ServiceError::InvalidArgument`) instead of one
//! problem per round trip — field phones are on slow networks.
use chrono::{DateTime, Utc};
use uuid::Uuid;
use zoufang_core::{ServiceError, ServiceResult, error::FieldViolation};

/// Field violations gathered while checking one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` (a request field path) is invalid, and why.
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            reason: reason.into(),
        });
    }

    /// Parses a client-chosen UUID (whitespace trimmed). Records a violation
    /// and returns nil when it is missing, malformed or nil itself: a nil id
    /// would make every client's "first" record the same one.
    pub fn uuid(&mut self, field: &str, value: &str) -> Uuid {
        let value = value.trim();
        match Uuid::parse_str(value) {
            Ok(u) if u.is_nil() => self.add(field, "cannot be the nil UUID"),
            Ok(u) => return u,
            Err(_) if value.is_empty() => self.add(field, "is required"),
            Err(_) => self.add(field, format!("{value:?} is not a UUID")),
        }
        Uuid::nil()
    }

    /// Converts a required timestamp; records a violation when it is missing
    /// or out of range (negative nanos, beyond chrono's years).
    pub fn time(
        &mut self,
        field: &str,
        ts: Option<&prost_types::Timestamp>,
    ) -> Option<DateTime<Utc>> {
        let Some(ts) = ts else {
            self.add(field, "is required");
            return None;
        };
        let t = u32::try_from(ts.nanos)
            .ok()
            .and_then(|n| DateTime::from_timestamp(ts.seconds, n));
        if t.is_none() {
            self.add(field, "is not a valid timestamp");
        }
        t
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Ok when nothing was recorded, else every violation in recorded order.
    pub fn finish(self) -> ServiceResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::InvalidArgument(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: Violations) -> Vec<(String, String)> {
        match v.finish() {
            Err(ServiceError::InvalidArgument(vs)) => {
                vs.into_iter().map(|v| (v.field, v.reason)).collect()
            }
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn nothing_recorded_is_ok() {
        let v = Violations::new();
        assert!(v.is_empty());
        assert!(v.finish().is_ok());
    }

    #[test]
    fn uuids_are_parsed_or_named() {
        let mut v = Violations::new();
        let id = Uuid::new_v4();
        assert_eq!(v.uuid("a", &format!(" {id} ")), id);
        assert_eq!(v.uuid("a", &id.to_string().to_uppercase()), id);
        assert!(v.is_empty());
        assert!(v.uuid("b", "").is_nil());
        assert!(v.uuid("c", "not-a-uuid").is_nil());
        assert!(v.uuid("d", &Uuid::nil().to_string()).is_nil());
        let got = fields(v);
        let names: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, ["b", "c", "d"]);
        assert_eq!(got[0].1, "is required");
        assert!(got[1].1.contains("\"not-a-uuid\" is not a UUID"));
        assert!(got[2].1.contains("nil"));
    }

    #[test]
    fn times_are_converted_or_named() {
        let mut v = Violations::new();
        let ok = prost_types::Timestamp {
            seconds: 1_764_400_000,
            nanos: 5,
        };
        let t = v.time("a", Some(&ok)).unwrap();
        assert_eq!(
            (t.timestamp(), t.timestamp_subsec_nanos()),
            (1_764_400_000, 5)
        );
        assert_eq!(v.time("b", None), None);
        let bad = prost_types::Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert_eq!(v.time("c", Some(&bad)), None);
        let got = fields(v);
        assert_eq!(got[0], ("b".into(), "is required".into()));
        assert_eq!(got[1], ("c".into(), "is not a valid timestamp".into()));
    }
}
