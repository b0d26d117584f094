//! Signed webhooks, both ways: Zoufang signs what it posts (notification
//! webhooks, replies to petition systems) and checks what it receives
//! (petition and hotline cases) with one scheme —
//! `X-Zoufang-Timestamp: <unix seconds>` and
//! `X-Zoufang-Signature: sha256=hex(HMAC-SHA256(secret, "{timestamp}.{body}"))`
//! over the exact body bytes.
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header carrying the signing time (unix seconds).
pub const HEADER_TIMESTAMP: &str = "X-Zoufang-Timestamp";
/// Header carrying `sha256=<hex>`.
pub const HEADER_SIGNATURE: &str = "X-Zoufang-Signature";

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac
}

/// `sha256=hex(HMAC-SHA256(secret, "{timestamp}.{body}"))`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Why a signed request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing or malformed X-Zoufang-Timestamp")]
    BadTimestamp,
    #[error("the request is older or newer than {0} s: a replay, or a clock far off")]
    Stale(i64),
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks a request's signature (in constant time) and that its timestamp
/// lies within `window_secs` of `now`. Replays inside the window are for
/// the receiver to catch by remembering the signatures it has seen.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: DateTime<Utc>,
    window_secs: i64,
) -> Result<(), SignatureError> {
    verify_mac(secret, timestamp, signature, body, now, window_secs).map(|_| ())
}

/// As [`verify`], returning the MAC's bytes: what a receiver remembers to
/// refuse replays (the header's text has many spellings of one MAC, e.g.
/// upper- and lower-case hex).
pub fn verify_mac(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: DateTime<Utc>,
    window_secs: i64,
) -> Result<Vec<u8>, SignatureError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if now.timestamp().abs_diff(ts) > window_secs.max(0).unsigned_abs() {
        return Err(SignatureError::Stale(window_secs));
    }
    let given = signature
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SignatureError::Mismatch)?;
    mac(secret, ts, body)
        .verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)?;
    Ok(given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_must_match_and_be_fresh() {
        let now = Utc::now();
        let (ts, body) = (now.timestamp(), br#"{"a":1}"#.as_slice());
        let sig = sign(b"secret", ts, body);
        assert_eq!(
            verify(b"secret", &ts.to_string(), &sig, body, now, 300),
            Ok(())
        );
        assert_eq!(
            verify(b"other", &ts.to_string(), &sig, body, now, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"secret", &ts.to_string(), &sig, br#"{"a":2}"#, now, 300),
            Err(SignatureError::Mismatch)
        );
        let old = ts - 301;
        assert_eq!(
            verify(
                b"secret",
                &old.to_string(),
                &sign(b"secret", old, body),
                body,
                now,
                300
            ),
            Err(SignatureError::Stale(300))
        );
        assert_eq!(
            verify(b"secret", "x", &sig, body, now, 300),
            Err(SignatureError::BadTimestamp)
        );
    }

    #[test]
    fn spellings_of_one_mac_verify_to_the_same_bytes() {
        let now = Utc::now();
        let (ts, body) = (now.timestamp(), b"{}".as_slice());
        let lower = sign(b"secret", ts, body);
        let upper = format!("sha256={}", lower["sha256=".len()..].to_uppercase());
        let a = verify_mac(b"secret", &ts.to_string(), &lower, body, now, 300);
        let b = verify_mac(b"secret", &ts.to_string(), &upper, body, now, 300);
        assert_eq!(a.as_ref().map(Vec::len), Ok(32));
        assert_eq!(a, b);
    }
}
