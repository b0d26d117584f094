//! Region scopes: what part of the region tree a caller may see. A scope is
//! a prefix of a 12-digit region code, 0 to 12 digits ("" = everything, as
//! for a province-wide administrator); every stored row carries its region
//! code, so a prefix match is the whole access check.
use super::region::RegionCode;
use crate::error::{ServiceError, ServiceResult};

/// An access scope: a prefix of 0–12 digits of a region code
/// ("" = everything, as for a province-wide administrator).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionScope(String);

impl RegionScope {
    /// Parses a prefix of at most 12 digits (surrounding whitespace ignored).
    pub fn parse(field: &str, s: &str) -> ServiceResult<Self> {
        let s = s.trim();
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ServiceError::invalid(
                field,
                format!("{s:?} must contain digits only"),
            ));
        }
        if s.len() > 12 {
            return Err(ServiceError::invalid(
                field,
                format!("must be at most 12 digits, got {}", s.len()),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The scope of everything within a code: its significant prefix.
    pub fn for_code(code: &RegionCode) -> Self {
        Self(code.prefix().to_owned())
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the raw `code` starts with this scope.
    pub fn covers(&self, code: &str) -> bool {
        code.starts_with(&self.0)
    }

    /// True when the code lies within this scope.
    pub fn covers_code(&self, code: &RegionCode) -> bool {
        self.covers(code.as_str())
    }

    /// The effective filter for a requested prefix: the longer of the two when
    /// one extends the other, None when disjoint — so a list query never shows
    /// rows outside the scope, whatever filter the caller asks for.
    pub fn narrowest(&self, requested: &str) -> Option<String> {
        if requested.starts_with(&self.0) {
            Some(requested.to_owned())
        } else if self.0.starts_with(requested) {
            Some(self.0.clone())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse("code", s).expect(s)
    }

    #[test]
    fn scopes_cover_prefixes() {
        let s = RegionScope::parse("scope", " 430426 ").unwrap();
        assert_eq!(s.as_str(), "430426");
        assert!(s.covers("430426104201"));
        assert!(s.covers("430426"));
        assert!(!s.covers("430427104201"));
        assert!(!s.covers("4304"));
        assert!(s.covers_code(&code("430426104201")));
        assert!(!s.covers_code(&code("430427000000")));
        let all = RegionScope::parse("scope", "").unwrap();
        assert!(all.covers("110101000000"));
        let e = RegionScope::parse("scope", "1234567890123").unwrap_err();
        assert!(e.to_string().contains("at most 12 digits, got 13"));
        assert!(RegionScope::parse("scope", "43%").is_err());
        assert!(RegionScope::parse("scope", "430426104201").is_ok());
        let for_township = RegionScope::for_code(&code("430426104000"));
        assert_eq!(for_township.as_str(), "430426104");
    }

    #[test]
    fn narrowest_never_widens_the_scope() {
        let s = RegionScope::parse("scope", "430426").unwrap();
        assert_eq!(s.narrowest("430426104").as_deref(), Some("430426104"));
        assert_eq!(s.narrowest("430426").as_deref(), Some("430426"));
        assert_eq!(s.narrowest("43").as_deref(), Some("430426"));
        assert_eq!(s.narrowest("").as_deref(), Some("430426"));
        assert_eq!(s.narrowest("430427"), None);
        assert_eq!(s.narrowest("4304271"), None);
        let all = RegionScope::parse("scope", "").unwrap();
        assert_eq!(all.narrowest("43").as_deref(), Some("43"));
        assert_eq!(all.narrowest("").as_deref(), Some(""));
    }
}
