//! Mainland China mobile numbers (手机号码): 11 digits, `1[3-9]` then 9 more.
//! Landlines are refused on purpose: callbacks (回访) and SMS need a mobile.
use std::fmt;

use crate::mask::mask_phone;
use zoufang_core::error::{ServiceError, ServiceResult};

/// A valid 11-digit mobile number. `Debug` and `Display` show it masked
/// (3+4), so it cannot leak into logs by accident; `as_str` gives it whole.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MobilePhone(String);

impl MobilePhone {
    /// Parses a mobile number as people type it: spaces and dashes are
    /// dropped and a `+86` or `86` country prefix is accepted.
    /// `field` names the input in errors.
    pub fn parse(field: &str, s: &str) -> ServiceResult<Self> {
        let bad = |reason: String| Err(ServiceError::invalid(field, reason));
        let compact: String = s
            .chars()
            .filter(|c| !(c.is_whitespace() || *c == '-'))
            .collect();
        if compact.is_empty() {
            return bad("is required".into());
        }
        // "86" is only a prefix when 11 digits follow it; otherwise it could
        // be the start of a (wrong-length) number and is left for the checks.
        let digits = match compact.strip_prefix("+86") {
            Some(rest) => rest,
            None if compact.len() == 13 => compact.strip_prefix("86").unwrap_or(&compact),
            None => &compact,
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return bad("must contain digits only (spaces, dashes and +86 are allowed)".into());
        }
        if digits.len() != 11 {
            return bad(format!("must be 11 digits, got {}", digits.len()));
        }
        if !(digits.starts_with('1') && matches!(digits.as_bytes()[1], b'3'..=b'9')) {
            return bad("is not a mainland mobile number: it must start with 13–19".into());
        }
        Ok(Self(digits.to_owned()))
    }

    /// The 11 digits (for encryption, keyed hashing and sending SMS; never
    /// for display).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Masked form, first 3 and last 4 kept: `138****5678`.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

impl fmt::Debug for MobilePhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MobilePhone({})", self.masked())
    }
}

impl fmt::Display for MobilePhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        MobilePhone::parse("phone", s).unwrap_err().to_string()
    }

    #[test]
    fn accepts_common_spellings() {
        for s in [
            "13812345678",
            " 13812345678 ",
            "+86 138 1234 5678",
            "+8613812345678",
            "8613812345678",
            "86-138-1234-5678",
            "138-1234-5678",
        ] {
            let p = MobilePhone::parse("phone", s).expect(s);
            assert_eq!(p.as_str(), "13812345678", "{s}");
        }
        for s in ["13012345678", "19912345678", "16612345678"] {
            assert!(MobilePhone::parse("phone", s).is_ok(), "{s}");
        }
    }

    #[test]
    fn shown_masked_everywhere() {
        let p = MobilePhone::parse("phone", "13812345678").unwrap();
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(format!("{p:?}"), "MobilePhone(138****5678)");
        assert_eq!(p.to_string(), "138****5678");
    }

    #[test]
    fn each_failure_has_its_reason() {
        assert!(err("").contains("phone: is required"));
        assert!(err(" - ").contains("is required"));
        assert!(err("1381234567").contains("must be 11 digits, got 10"));
        assert!(err("138123456789").contains("got 12"));
        assert!(err("+86138123456").contains("got 9"));
        assert!(err("1381234567a").contains("digits only"));
        assert!(err("0734-1234567").contains("must start with 13–19"));
        assert!(err("12345678901").contains("must start with 13–19"));
        assert!(err("23812345678").contains("must start with 13–19"));
        // 86 followed by 9 digits is not a prefix: the whole is 11 digits.
        assert!(err("86138123456").contains("must start with 13–19"));
        assert!(err("１３８12345678").contains("digits only"));
    }
}
