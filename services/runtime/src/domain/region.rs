//! Region codes (统计用区划代码): 12 digits — province 2, city 2, county 2,
//! township 3, village 3 — and access scopes, which are prefixes of them.
use std::fmt;

use crate::error::{ServiceError, ServiceResult};

/// The administrative level a code stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegionLevel {
    /// 省.
    Province,
    /// 市.
    City,
    /// 县/区.
    County,
    /// 乡/镇/街道.
    Township,
    /// 村/社区.
    Village,
}

impl RegionLevel {
    /// From the CSV `level` column, 1 (province) to 5 (village).
    pub fn from_csv_level(n: u8) -> Option<Self> {
        Some(match n {
            1 => Self::Province,
            2 => Self::City,
            3 => Self::County,
            4 => Self::Township,
            5 => Self::Village,
            _ => return None,
        })
    }

    /// 1 (province) to 5 (village), as stored and in the proto enum.
    pub fn as_i32(self) -> i32 {
        match self {
            Self::Province => 1,
            Self::City => 2,
            Self::County => 3,
            Self::Township => 4,
            Self::Village => 5,
        }
    }

    /// Digits of the code that are significant at this level.
    pub fn prefix_len(self) -> usize {
        match self {
            Self::Province => 2,
            Self::City => 4,
            Self::County => 6,
            Self::Township => 9,
            Self::Village => 12,
        }
    }
}

/// Township-level unit type, from digits 7–9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TownshipKind {
    /// 001–099 街道.
    Subdistrict,
    /// 100–199 镇.
    Town,
    /// 200–399 乡.
    Township,
    /// 400 and above: development zones, farms and the like.
    Other,
}

impl TownshipKind {
    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Subdistrict => "街道",
            Self::Town => "镇",
            Self::Township => "乡",
            Self::Other => "其他乡级单位",
        }
    }
}

/// Village-level unit type, from digits 10–12.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VillageKind {
    /// 001–199 居委会 (community).
    ResidentsCommittee,
    /// 200–399 村委会.
    VillageCommittee,
    /// 400–499 类似居委会.
    ResidentsLike,
    /// 500–599 类似村委会.
    VillageLike,
    /// Anything else.
    Other,
}

impl VillageKind {
    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::ResidentsCommittee => "居委会",
            Self::VillageCommittee => "村委会",
            Self::ResidentsLike => "类似居委会",
            Self::VillageLike => "类似村委会",
            Self::Other => "其他村级单位",
        }
    }
}

/// A valid 12-digit region code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

impl RegionCode {
    /// Parses exactly 12 ASCII digits; `field` names the input in errors.
    pub fn parse(field: &str, s: &str) -> ServiceResult<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ServiceError::invalid(field, "is required"));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ServiceError::invalid(
                field,
                format!("{s:?} must contain digits only"),
            ));
        }
        let n = s.len();
        if n != 12 {
            return Err(ServiceError::invalid(
                field,
                format!("must be 12 digits, got {n}"),
            ));
        }
        if &s[..2] == "00" {
            return Err(ServiceError::invalid(
                field,
                "the province part cannot be 00",
            ));
        }
        // Codes may skip a level (东莞 and 中山 have townships right under
        // the city: 441900003000), so zero groups above non-zero ones are allowed.
        let code = Self(s.to_owned());
        Ok(code)
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 6-digit county part (the shard key).
    pub fn county(&self) -> &str {
        &self.0[..6]
    }

    /// The 9-digit township part, when the code is at township level or below.
    pub fn township(&self) -> Option<&str> {
        (self.level() >= RegionLevel::Township).then(|| &self.0[..9])
    }

    /// The level, from which groups are non-zero.
    pub fn level(&self) -> RegionLevel {
        let s = &self.0;
        let nz = |r: std::ops::Range<usize>| s[r].bytes().any(|b| b != b'0');
        if nz(9..12) {
            RegionLevel::Village
        } else if nz(6..9) {
            RegionLevel::Township
        } else if nz(4..6) {
            RegionLevel::County
        } else if nz(2..4) {
            RegionLevel::City
        } else {
            RegionLevel::Province
        }
    }

    /// The significant prefix (2/4/6/9/12 digits by level).
    pub fn prefix(&self) -> &str {
        &self.0[..self.level().prefix_len()]
    }

    /// The code one level up (its lowest non-zero group zeroed); None for a province.
    pub fn parent(&self) -> Option<RegionCode> {
        let cut = match self.level() {
            RegionLevel::Province => return None,
            RegionLevel::City => 2,
            RegionLevel::County => 4,
            RegionLevel::Township => 6,
            RegionLevel::Village => 9,
        };
        Some(Self(format!("{:0<12}", &self.0[..cut])))
    }

    /// True when this code lies within `other` (or is it).
    pub fn is_within(&self, other: &RegionCode) -> bool {
        self.0.starts_with(other.prefix())
    }

    /// The township type, for township-level codes.
    pub fn township_kind(&self) -> Option<TownshipKind> {
        if self.level() != RegionLevel::Township {
            return None;
        }
        let n: u16 = self.0[6..9].parse().ok()?;
        Some(match n {
            1..=99 => TownshipKind::Subdistrict,
            100..=199 => TownshipKind::Town,
            200..=399 => TownshipKind::Township,
            _ => TownshipKind::Other,
        })
    }

    /// The village type, for village-level codes.
    pub fn village_kind(&self) -> Option<VillageKind> {
        if self.level() != RegionLevel::Village {
            return None;
        }
        let n: u16 = self.0[9..12].parse().ok()?;
        Some(match n {
            1..=199 => VillageKind::ResidentsCommittee,
            200..=399 => VillageKind::VillageCommittee,
            400..=499 => VillageKind::ResidentsLike,
            500..=599 => VillageKind::VillageLike,
            _ => VillageKind::Other,
        })
    }

    /// Errors when the code's structure contradicts a declared level.
    pub fn check_level(&self, field: &str, declared: RegionLevel) -> ServiceResult<()> {
        if self.level() == declared {
            Ok(())
        } else {
            Err(ServiceError::invalid(
                field,
                format!(
                    "level {} does not match code {}, which is level {}",
                    declared.as_i32(),
                    self.0,
                    self.level().as_i32()
                ),
            ))
        }
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An access scope: a prefix of 0–12 digits ("" = everything).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionScope(String);

impl RegionScope {
    /// Parses a prefix of at most 12 digits.
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

    /// The significant prefix of a code.
    pub fn for_code(code: &RegionCode) -> Self {
        Self(code.prefix().to_owned())
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `code` starts with this scope.
    pub fn covers(&self, code: &str) -> bool {
        code.starts_with(&self.0)
    }

    /// True when the code lies within this scope.
    pub fn covers_code(&self, code: &RegionCode) -> bool {
        self.covers(code.as_str())
    }

    /// The effective filter for a requested prefix: the longer of the two when
    /// one extends the other, None when they are disjoint.
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
    fn levels_prefixes_and_parents() {
        let village = code("430426104201");
        assert_eq!(village.level(), RegionLevel::Village);
        assert_eq!(village.county(), "430426");
        assert_eq!(village.township(), Some("430426104"));
        assert_eq!(village.parent().unwrap().as_str(), "430426104000");
        let township = village.parent().unwrap();
        assert_eq!(township.level(), RegionLevel::Township);
        assert_eq!(township.prefix(), "430426104");
        assert_eq!(township.parent().unwrap().as_str(), "430426000000");
        assert_eq!(
            code("430400000000").parent().unwrap().as_str(),
            "430000000000"
        );
        assert_eq!(code("430000000000").parent(), None);
        assert!(village.is_within(&township));
        assert!(!township.is_within(&village));
    }

    #[test]
    fn type_rules_of_the_code() {
        assert_eq!(
            code("430426004000").township_kind(),
            Some(TownshipKind::Subdistrict)
        );
        assert_eq!(
            code("430426104000").township_kind(),
            Some(TownshipKind::Town)
        );
        assert_eq!(
            code("430426204000").township_kind(),
            Some(TownshipKind::Township)
        );
        assert_eq!(
            code("430426404000").township_kind(),
            Some(TownshipKind::Other)
        );
        assert_eq!(
            code("430426104001").village_kind(),
            Some(VillageKind::ResidentsCommittee)
        );
        assert_eq!(
            code("430426104201").village_kind(),
            Some(VillageKind::VillageCommittee)
        );
        assert_eq!(
            code("430426104401").village_kind(),
            Some(VillageKind::ResidentsLike)
        );
        assert_eq!(
            code("430426104501").village_kind(),
            Some(VillageKind::VillageLike)
        );
        assert_eq!(VillageKind::VillageCommittee.label_zh(), "村委会");
        assert_eq!(code("430426104201").township_kind(), None);
    }

    #[test]
    fn bad_codes_name_the_problem() {
        let err = |s: &str| {
            RegionCode::parse("village_code", s)
                .unwrap_err()
                .to_string()
        };
        assert!(err("4304261042011").contains("12 digits, got 13"));
        assert!(err("43042610420").contains("got 11"));
        assert!(err("43042610420x").contains("digits only"));
        assert!(err("000426104201").contains("province"));
        assert!(err("").contains("required"));
        assert!(err("4304261042011").contains("village_code"));
    }

    #[test]
    fn declared_level_must_match() {
        assert!(
            code("430426104000")
                .check_level("level", RegionLevel::Township)
                .is_ok()
        );
        assert!(
            code("430426104000")
                .check_level("level", RegionLevel::Village)
                .is_err()
        );
        assert_eq!(RegionLevel::from_csv_level(5), Some(RegionLevel::Village));
        assert_eq!(RegionLevel::from_csv_level(6), None);
    }

    #[test]
    fn scopes() {
        let s = RegionScope::parse("scope", "430426").unwrap();
        assert!(s.covers("430426104201"));
        assert!(!s.covers("430427104201"));
        assert_eq!(s.narrowest("430426104").as_deref(), Some("430426104"));
        assert_eq!(s.narrowest("43").as_deref(), Some("430426"));
        assert_eq!(s.narrowest("430427"), None);
        assert!(
            RegionScope::parse("scope", "")
                .unwrap()
                .covers("110101000000")
        );
        assert!(RegionScope::parse("scope", "1234567890123").is_err());
        assert!(RegionScope::parse("scope", "43%").is_err());
        assert_eq!(
            RegionScope::for_code(&code("430426104000")).as_str(),
            "430426104"
        );
    }
}
