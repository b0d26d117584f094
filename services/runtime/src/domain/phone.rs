//! Mainland China mobile numbers (手机号码).
use std::fmt;

use super::mask::mask_phone;
use crate::error::{ServiceError, ServiceResult};

/// A valid 11-digit mobile number. `Debug` and `Display` show it masked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MobilePhone(String);

impl MobilePhone {
    /// Parses a mobile number; spaces, dashes and a +86/86 prefix are accepted.
    pub fn parse(field: &str, s: &str) -> ServiceResult<Self> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| {
                (digits.len() == 13)
                    .then(|| digits.strip_prefix("86"))
                    .flatten()
            })
            .unwrap_or(&digits);
        let valid = digits.len() == 11
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.starts_with('1')
            && matches!(digits.as_bytes()[1], b'3'..=b'9');
        if !valid {
            return Err(ServiceError::invalid(
                field,
                "must be an 11-digit mainland mobile number starting 13–19",
            ));
        }
        Ok(Self(digits.to_owned()))
    }

    /// The 11 digits (for encryption and keyed hashing only).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Masked form (3+4).
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

    #[test]
    fn accepts_common_spellings() {
        for s in [
            "13812345678",
            "+86 138 1234 5678",
            "86-138-1234-5678",
            "138-1234-5678",
        ] {
            assert_eq!(
                MobilePhone::parse("phone", s).unwrap().as_str(),
                "13812345678",
                "{s}"
            );
        }
        assert_eq!(
            format!("{:?}", MobilePhone::parse("phone", "13812345678").unwrap()),
            "MobilePhone(138****5678)"
        );
    }

    #[test]
    fn refuses_non_mobiles_naming_the_field() {
        for s in [
            "12345678901",
            "1381234567",
            "138123456789",
            "0734-1234567",
            "1381234567a",
            "",
        ] {
            let e = MobilePhone::parse("phone", s).unwrap_err().to_string();
            assert!(e.contains("phone"), "{s}: {e}");
        }
    }
}
