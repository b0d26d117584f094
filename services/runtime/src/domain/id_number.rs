//! The resident ID number (居民身份证号码, GB 11643-1999): 6 address digits,
//! 8 birth-date digits, 3 serial digits and a check character.
use std::fmt;

use chrono::{NaiveDate, Utc};

use super::mask::mask_id_number;
use crate::error::{ServiceError, ServiceResult};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// A valid ID number. `Debug` and `Display` show it masked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// The check character for the first 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    let mut sum = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    Some(CHECK[(sum % 11) as usize] as char)
}

impl IdNumber {
    /// Parses and checks an ID number; `field` names the input in errors.
    pub fn parse(field: &str, s: &str) -> ServiceResult<Self> {
        let s = s.trim().to_ascii_uppercase();
        let bad = |reason: String| ServiceError::invalid(field, reason);
        let n = s.chars().count();
        if n == 0 {
            return Err(bad("is required".into()));
        }
        if n != 18 {
            return Err(bad(format!("must be 18 characters, got {n}")));
        }
        let (body, last) = s.split_at(17);
        if !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("the first 17 characters must be digits".into()));
        }
        let last = last.chars().next().unwrap_or(' ');
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(bad("the last character must be a digit or X".into()));
        }
        if &body[..6] == "000000" {
            return Err(bad(
                "the address code (first 6 digits) cannot be 000000".into()
            ));
        }
        let birth = &body[6..14];
        let date = NaiveDate::parse_from_str(birth, "%Y%m%d")
            .map_err(|_| bad(format!("birth date {birth} is not a valid date")))?;
        if date < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default() {
            return Err(bad(format!("birth date {birth} is before 1900")));
        }
        if date > Utc::now().date_naive() {
            return Err(bad(format!("birth date {birth} is in the future")));
        }
        let expected = check_char(body).unwrap_or('?');
        if expected != last {
            return Err(bad(format!(
                "checksum digit should be {expected}, not {last}"
            )));
        }
        Ok(Self(s))
    }

    /// The 18 characters (for encryption and keyed hashing only).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date encoded in the number.
    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").unwrap_or_default()
    }

    /// Masked form (6+4).
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        IdNumber::parse("id_number", s).unwrap_err().to_string()
    }

    #[test]
    fn valid_numbers_parse() {
        let id = IdNumber::parse("id_number", "11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110105********002X)");
        let body = "43042619600312123";
        let full = format!("{body}{}", check_char(body).unwrap());
        assert!(IdNumber::parse("id_number", &full).is_ok());
    }

    #[test]
    fn each_failure_has_its_reason() {
        assert!(err("11010519491231002").contains("got 17"));
        assert!(err("110105194912310021").contains("checksum digit should be X"));
        assert!(err("110105199913320011").contains("not a valid date"));
        assert!(err("1101051949123100AX").contains("digits"));
        assert!(err("11010519491231002Y").contains("digit or X"));
        assert!(err("000000194912310021").contains("000000"));
        assert!(err("110105189912310021").contains("before 1900"));
        assert!(err("110105299912310021").contains("future"));
        assert!(err("").contains("required"));
        assert!(err("123").contains("id_number"));
    }
}
