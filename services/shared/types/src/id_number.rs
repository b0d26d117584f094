//! The resident ID number (居民身份证号码, GB 11643-1999): 6 address digits,
//! 8 birth-date digits, 3 serial digits and a check character (ISO 7064
//! MOD 11-2, where 10 is written X).
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use crate::mask::mask_id_number;
use zoufang_core::error::{ServiceError, ServiceResult};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// A valid ID number. `Debug` and `Display` show it masked (6+4), so it
/// cannot leak into logs or messages by accident; `as_str` gives it whole.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// The check character for the first 17 digits; None unless `first17` is
/// exactly 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    Some(char::from(CHECK[(sum % 11) as usize]))
}

impl IdNumber {
    /// Parses and checks an ID number at `now`; `field` names the input in
    /// errors. "Today" is the date in China (UTC+8): a baby born this
    /// morning in Beijing is not born in the future.
    pub fn parse(field: &str, s: &str, now: DateTime<Utc>) -> ServiceResult<Self> {
        Self::parse_on(field, s, crate::beijing::date_of(now))
    }

    /// [`IdNumber::parse`] against a given Chinese `today`.
    pub fn parse_on(field: &str, s: &str, today: NaiveDate) -> ServiceResult<Self> {
        let bad = |reason: String| Err(ServiceError::invalid(field, reason));
        let s = s.trim().to_ascii_uppercase();
        let n = s.chars().count();
        if n == 0 {
            return bad("is required".into());
        }
        if n != 18 {
            return bad(format!("must be 18 characters, got {n}"));
        }
        // Count first, then check ASCII: slicing by bytes is only safe after.
        let Some((body, last)) = s.split_at_checked(17) else {
            return bad("the first 17 characters must be digits".into());
        };
        if !body.bytes().all(|b| b.is_ascii_digit()) {
            return bad("the first 17 characters must be digits".into());
        }
        let last = last.chars().next().unwrap_or(' ');
        if !(last.is_ascii_digit() || last == 'X') {
            return bad(format!(
                "the last character must be a digit or X, got {last:?}"
            ));
        }
        if &body[..6] == "000000" {
            return bad("the address code (first 6 digits) cannot be 000000".into());
        }
        let birth = &body[6..14];
        let Ok(date) = NaiveDate::parse_from_str(birth, "%Y%m%d") else {
            return bad(format!("birth date {birth} is not a valid date"));
        };
        if date < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
            return bad(format!("birth date {birth} is before 1900"));
        }
        if date > today {
            return bad(format!("birth date {birth} is in the future"));
        }
        let expected = check_char(body).unwrap_or('?');
        if expected != last {
            return bad(format!("checksum digit should be {expected}, not {last}"));
        }
        Ok(Self(s))
    }

    /// The 18 characters, a trailing X uppercased (for encryption and keyed
    /// hashing; never for display).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date encoded in digits 7–14 (checked valid on parse).
    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").unwrap_or_default()
    }

    /// Masked form, first 6 and last 4 kept: `110105********002X`.
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

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    fn err(s: &str) -> String {
        IdNumber::parse_on("id_number", s, today())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn valid_numbers_parse() {
        // Check characters computed independently of `check_char`.
        for s in [
            "11010519491231002X",
            "440308199901011234",
            "430426199602290014",
            "520102200506307568",
            "370102198001010015",
        ] {
            let id = IdNumber::parse_on("id_number", s, today()).expect(s);
            assert_eq!(id.as_str(), s);
            assert_eq!(check_char(&s[..17]), s.chars().last());
        }
        assert!(IdNumber::parse("id_number", "11010519491231002X", Utc::now()).is_ok());
    }

    #[test]
    fn input_is_normalized() {
        let id = IdNumber::parse_on("id_number", " 11010519491231002x\t", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        let leap = IdNumber::parse_on("id_number", "430426199602290014", today()).unwrap();
        assert_eq!(
            leap.birth_date(),
            NaiveDate::from_ymd_opt(1996, 2, 29).unwrap()
        );
    }

    #[test]
    fn shown_masked_everywhere() {
        let id = IdNumber::parse_on("id_number", "11010519491231002X", today()).unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110105********002X)");
        assert_eq!(id.to_string(), "110105********002X");
        assert!(!format!("{:?}", Some(&id)).contains("19491231"));
    }

    #[test]
    fn each_failure_has_its_reason() {
        assert!(err("").contains("id_number: is required"));
        assert!(err("11010519491231002").contains("must be 18 characters, got 17"));
        assert!(err("11010519491231002X1").contains("got 19"));
        assert!(err("110105194912310021").contains("checksum digit should be X, not 1"));
        assert!(err("440308199901011235").contains("checksum digit should be 4"));
        assert!(err("110105199913320011").contains("birth date 19991332 is not a valid date"));
        assert!(err("430426199702290014").contains("birth date 19970229 is not a valid date"));
        assert!(err("1101051949123100AX").contains("first 17 characters must be digits"));
        assert!(err("11010519491231002Y").contains("digit or X, got 'Y'"));
        assert!(err("000000194912310021").contains("000000"));
        assert!(err("110105189912310021").contains("birth date 18991231 is before 1900"));
        assert!(err("110105202611300021").contains("birth date 20261130 is in the future"));
    }

    #[test]
    fn born_today_is_fine() {
        let body = "11010520261129002";
        let s = format!("{body}{}", check_char(body).unwrap());
        assert!(IdNumber::parse_on("id_number", &s, today()).is_ok());
    }

    #[test]
    fn odd_input_never_panics() {
        // 18 characters but multi-byte: must not be sliced mid-character.
        assert!(err("一二三四五六七八九十一二三四五六七八").contains("digits"));
        assert!(err("11010519491231002é").contains("digit or X"));
        assert!(err("１１010519491231002X").contains("digits"));
        assert_eq!(check_char("123"), None);
        assert_eq!(check_char("1101051949123100A"), None);
    }
}
