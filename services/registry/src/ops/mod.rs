//! The registry's operations: authorization (role and region scope),
//! validation, and the transactions that change state and write events.
//! Each function takes the caller's claims and a request message and returns
//! a response message, so the gRPC layer stays a thin mapping.
pub mod cadres;
pub mod campaigns;
pub mod households;
pub mod progress;
pub mod regions;
pub mod visits;

use std::sync::Arc;

use uuid::Uuid;
use zoufang_runtime::{ServiceError, ServiceResult, pii::PiiCipher};

/// What every operation needs.
#[derive(Debug, Clone)]
pub struct State {
    /// The registry's database pool (search_path = registry).
    pub pool: sqlx::PgPool,
    /// Encrypts and hashes personal data.
    pub pii: Arc<PiiCipher>,
}

impl State {
    /// Wraps a pool and a cipher.
    pub fn new(pool: sqlx::PgPool, pii: PiiCipher) -> Self {
        Self {
            pool,
            pii: Arc::new(pii),
        }
    }

    /// A keyed fingerprint of a request body, to tell a retried create from
    /// a different body under the same id. Keyed, because bodies may carry
    /// personal data that a plain hash would let anyone confirm by guessing.
    pub fn body_hash(&self, message: &impl prost::Message) -> Vec<u8> {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(message.encode_to_vec());
        self.pii.keyed_hash("request_body", &hex::encode(digest))
    }
}

/// Parses a required UUID field.
pub fn parse_uuid(field: &str, value: &str) -> ServiceResult<Uuid> {
    if value.trim().is_empty() {
        return Err(ServiceError::invalid(field, "is required"));
    }
    Uuid::parse_str(value.trim())
        .map_err(|_| ServiceError::invalid(field, format!("{value:?} is not a UUID")))
}

/// The 6-digit county part of a region code or scope prefix.
pub fn county_of(code: &str) -> String {
    format!("{:0<6}", code.chars().take(6).collect::<String>())
}

/// Refuses an empty required text field.
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

/// Converts a timestamp to chrono.
pub fn to_chrono(ts: &prost_types::Timestamp) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).ok()?)
}

/// Converts chrono to a timestamp.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_errors_name_the_field() {
        let e = parse_uuid("household_id", "nope").unwrap_err();
        assert!(e.to_string().contains("household_id"));
        assert!(parse_uuid("x", "").is_err());
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
}
