//! Small parsers and converters for request fields shared by every service:
//! errors name the field, as the API promises.
use uuid::Uuid;

use crate::error::{ServiceError, ServiceResult};

/// Parses a required UUID field.
pub fn parse_uuid(field: &str, value: &str) -> ServiceResult<Uuid> {
    if value.trim().is_empty() {
        return Err(ServiceError::invalid(field, "is required"));
    }
    Uuid::parse_str(value.trim())
        .map_err(|_| ServiceError::invalid(field, format!("{value:?} is not a UUID")))
}

/// Parses an optional UUID field (empty = None).
pub fn parse_optional_uuid(field: &str, value: &str) -> ServiceResult<Option<Uuid>> {
    match value.trim() {
        "" => Ok(None),
        v => parse_uuid(field, v).map(Some),
    }
}

/// Refuses an empty required text field or one longer than `max_chars`.
pub fn require_text(field: &str, value: &str, max_chars: usize) -> ServiceResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ServiceError::invalid(field, "is required"));
    }
    if v.chars().count() > max_chars {
        return Err(ServiceError::invalid(
            field,
            format!("is longer than {max_chars} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// Converts a proto timestamp to chrono.
pub fn to_chrono(ts: &prost_types::Timestamp) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).ok()?)
}

/// Converts chrono to a proto timestamp.
pub fn to_timestamp(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// Page size within [1, 500], 50 by default.
pub fn page_size(requested: i32) -> i64 {
    match requested {
        n if n <= 0 => 50,
        n => i64::from(n.min(500)),
    }
}

/// The 6-digit county part of a region code or scope prefix.
pub fn county_of(code: &str) -> String {
    format!("{:0<6}", code.chars().take(6).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_errors_name_the_field() {
        let e = parse_uuid("household_id", "nope").unwrap_err();
        assert!(e.to_string().contains("household_id"));
        assert!(parse_uuid("x", "").is_err());
        assert_eq!(parse_optional_uuid("x", " ").unwrap(), None);
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(require_text("name", " 张三 ", 5).unwrap(), "张三");
        assert!(
            require_text("name", "  ", 5)
                .unwrap_err()
                .to_string()
                .contains("name")
        );
        assert!(require_text("name", "一二三四五六", 5).is_err());
    }

    #[test]
    fn county_is_six_digits() {
        assert_eq!(county_of("370102001001"), "370102");
        assert_eq!(county_of("37"), "370000");
    }

    #[test]
    fn page_size_is_bounded() {
        assert_eq!(page_size(0), 50);
        assert_eq!(page_size(10_000), 500);
        assert_eq!(page_size(7), 7);
    }

    #[test]
    fn timestamps_round_trip() {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 5).unwrap();
        assert_eq!(to_chrono(&to_timestamp(t)), Some(t));
    }
}
