//! Region scopes: what part of the region tree a caller may see. A scope is
//! a prefix of a 12-digit region code, 0 to 12 digits ("" = everything, as
//! for a province-wide administrator); every stored row carries its region
//! code, so a prefix match is the whole access check.
//!
//! Two rules every service applies with the caller's claims live here too:
//! a write must be covered both as the row is stored and as it will be
//! ([`require_covers_both`]), and a row outside the scope reads exactly like
//! a row that does not exist ([`require_visible`]).
use zoufang_core::{
    auth::Claims,
    error::{ServiceError, ServiceResult},
};

use crate::region::{RegionCode, region_prefix};

/// The region prefix a list or statistics request filters on — every
/// request that names a region to read goes through here: `requested` is a
/// region code or a prefix of one ([`region_prefix`]: a full 12-digit code
/// stands for its region and everything under it, so 430426104000 filters
/// as the township 430426104), narrowed to the caller's scope, so an empty
/// request means "all I may see" and nobody sees past their scope.
/// InvalidArgument (field `region_code`) unless `requested` is at most 12
/// digits, which also makes the result safe in a `LIKE prefix || '%'`
/// filter; PermissionDenied when the region and the scope are disjoint.
pub fn list_prefix(claims: &Claims, requested: &str) -> ServiceResult<String> {
    list_prefix_of("region_code", claims, requested)
}

/// [`list_prefix`] for a request whose field has another name.
pub fn list_prefix_of(field: &str, claims: &Claims, requested: &str) -> ServiceResult<String> {
    let requested = RegionScope::parse(field, requested)?;
    RegionScope(claims.scope.clone())
        .narrowest(requested.as_str())
        .ok_or_else(|| {
            ServiceError::PermissionDenied(format!(
                "region {} is outside your scope {}",
                requested.as_str(),
                claims.scope
            ))
        })
}

/// The write rule: a caller may change a row only when their scope covers
/// the row as stored (`stored_region`, None when the row does not exist
/// yet) *and* the region it will have (`new_region`). So a row's region
/// moves only by a caller covering both ends, and a township admin cannot
/// rewrite a county-wide row by sending values inside their township.
///
/// The stored region is not named in the refusal: the caller may not see it.
pub fn require_covers_both(
    claims: &Claims,
    stored_region: Option<&str>,
    new_region: &str,
) -> ServiceResult<()> {
    if let Some(stored) = stored_region
        && !claims.covers(stored)
    {
        return Err(ServiceError::PermissionDenied(format!(
            "the record as stored lies outside your scope {:?}; only someone whose scope covers it may change it",
            claims.scope
        )));
    }
    claims.require_scope(new_region)
}

/// The read rule: NotFound — the very error an unknown id gets, built by
/// `not_found` — unless the caller's scope covers `region`, so answers do
/// not tell "exists elsewhere" from "does not exist".
pub fn require_visible(
    claims: &Claims,
    region: &str,
    not_found: impl FnOnce() -> ServiceError,
) -> ServiceResult<()> {
    if claims.covers(region) {
        Ok(())
    } else {
        Err(not_found())
    }
}

/// An access scope: a prefix of 0–12 digits of a region code
/// ("" = everything, as for a province-wide administrator).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionScope(String);

impl RegionScope {
    /// Parses a prefix of at most 12 digits (surrounding whitespace
    /// ignored); a full 12-digit code gives the prefix it stands for
    /// ([`region_prefix`]), so a township's code covers its villages.
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
        Ok(Self(region_prefix(s).to_owned()))
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
        // A full code stands for its region.
        let township = RegionScope::parse("scope", "430426104000").unwrap();
        assert_eq!(township.as_str(), "430426104");
        assert!(township.covers("430426104201"));
        let for_township = RegionScope::for_code(&code("430426104000"));
        assert_eq!(for_township.as_str(), "430426104");
    }

    /// Claims read as a token's payload would be (robust to added claims).
    fn claims(scope: &str) -> Claims {
        serde_json::from_value(serde_json::json!({
            "sub": "u", "roles": ["township_admin"], "scope": scope, "exp": 0
        }))
        .expect("claims")
    }

    #[test]
    fn a_write_needs_the_stored_and_the_new_region_covered() {
        let township = claims("430426104");
        // A new row inside the scope, an update within it.
        assert!(require_covers_both(&township, None, "430426104201").is_ok());
        assert!(require_covers_both(&township, Some("430426104201"), "430426104202").is_ok());
        // The county leader's row, rewritten with values inside the township.
        let e = require_covers_both(&township, Some("430426000000"), "430426104201").unwrap_err();
        assert!(matches!(e, ServiceError::PermissionDenied(_)), "{e}");
        assert!(!e.to_string().contains("430426000000"), "{e}");
        // Moving an own row out of the scope, or a foreign row in.
        assert!(require_covers_both(&township, Some("430426104201"), "430426105201").is_err());
        assert!(require_covers_both(&township, Some("430426105201"), "430426104201").is_err());
        assert!(require_covers_both(&township, None, "430426105201").is_err());
        // A county admin moves a row between townships.
        let county = claims("430426");
        assert!(require_covers_both(&county, Some("430426105201"), "430426104201").is_ok());
        assert!(require_covers_both(&county, Some("430427105201"), "430426104201").is_err());
    }

    #[test]
    fn out_of_scope_reads_like_unknown() {
        let township = claims("430426104");
        let nf = || ServiceError::NotFound("household x".into());
        assert!(require_visible(&township, "430426104201", nf).is_ok());
        let hidden = require_visible(&township, "430426105201", nf).unwrap_err();
        assert_eq!(hidden.to_string(), nf().to_string());
    }

    #[test]
    fn list_prefixes_take_codes_and_prefixes_within_the_scope() {
        let (c, all) = (claims("3701"), claims(""));
        for (claims, requested, want) in [
            (&c, "", "3701"),
            (&c, "37", "3701"),
            (&c, "3701", "3701"),
            (&c, " 370102 ", "370102"),
            (&all, "", ""),
            (&all, "3702", "3702"),
            // A full code stands for its region: township, village, county.
            (&c, "370102104000", "370102104"),
            (&c, "370102104201", "370102104201"),
            (&c, "370102000000", "370102"),
            (&c, "370100000000", "3701"),
            (&all, "370000000000", "37"),
        ] {
            assert_eq!(list_prefix(claims, requested).unwrap(), want, "{requested}");
        }
        for disjoint in ["3702", "370200000000"] {
            let e = list_prefix(&c, disjoint).unwrap_err();
            assert!(matches!(e, ServiceError::PermissionDenied(_)), "{e}");
        }
        for bad in ["37%", "3701021042011", "37 01"] {
            let e = list_prefix(&all, bad).unwrap_err();
            assert!(matches!(e, ServiceError::InvalidArgument(_)), "{e}");
            assert!(e.to_string().contains("region_code"), "{e}");
        }
        let e = list_prefix_of("parent_code", &all, "x").unwrap_err();
        assert!(e.to_string().contains("parent_code"), "{e}");
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
