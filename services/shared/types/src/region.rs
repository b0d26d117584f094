//! Region codes (统计用区划代码): 12 digits — province 2, city 2, county 2,
//! township 3, village 3. Access scopes, which are prefixes of them, live in
//! `scope.rs` (re-exported here) to keep each file short.
//!
//! A code's level is given by its trailing zero groups. Levels may be skipped
//! above the township (东莞 and 中山 have townships right under the city:
//! 441900003000), so a zero group above a non-zero one is allowed — except a
//! village under township 000, which no real code has.
use std::fmt;

pub use crate::scope::RegionScope;
use zoufang_core::error::{ServiceError, ServiceResult};

/// The administrative level a code stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegionLevel {
    /// 省 (province).
    Province,
    /// 市 (prefecture-level city).
    City,
    /// 县/区 (county or district).
    County,
    /// 乡/镇/街道 (township, town or subdistrict).
    Township,
    /// 村/社区 (village or community).
    Village,
}

impl RegionLevel {
    const ALL: [Self; 5] = [
        Self::Province,
        Self::City,
        Self::County,
        Self::Township,
        Self::Village,
    ];

    /// From the CSV `level` column, 1 (province) to 5 (village); None otherwise.
    pub fn from_csv_level(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// 1 (province) to 5 (village), as stored and as in the proto enum.
    pub fn as_i32(self) -> i32 {
        self as i32 + 1
    }

    /// Digits of the code that are significant at this level (2/4/6/9/12).
    pub fn prefix_len(self) -> usize {
        [2, 4, 6, 9, 12][self as usize]
    }

    /// Where this level's own digit group starts (0/2/4/6/9).
    fn group_start(self) -> usize {
        [0, 2, 4, 6, 9][self as usize]
    }

    /// The level a code's structure gives it (same as [`RegionCode::level`]).
    pub fn for_code(code: &RegionCode) -> Self {
        code.level()
    }
}

/// Township-level unit type, from digits 7–9 (GB/T 10114 practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TownshipKind {
    /// 001–099 街道 (subdistrict).
    Subdistrict,
    /// 100–199 镇 (town).
    Town,
    /// 200–399 乡 (township).
    Township,
    /// 400 and above: development zones, farms and the like (其他乡级单位).
    Other,
}

impl TownshipKind {
    /// The Chinese label, as shown in `Region.kind`.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Subdistrict => "街道",
            Self::Town => "镇",
            Self::Township => "乡",
            Self::Other => "其他乡级单位",
        }
    }
}

/// Village-level unit type, from digits 10–12 (GB/T 10114 practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VillageKind {
    /// 001–199 居委会 (residents' committee, community).
    ResidentsCommittee,
    /// 200–399 村委会 (village committee).
    VillageCommittee,
    /// 400–499 类似居委会 (units like a residents' committee).
    ResidentsLike,
    /// 500–599 类似村委会 (units like a village committee).
    VillageLike,
    /// 600 and above: not assigned by the rules.
    Other,
}

impl VillageKind {
    /// The Chinese label, as shown in `Region.kind`.
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

/// The prefix a region named in a request stands for — the one meaning of
/// a region code in every filter and scope: a full 12-digit code loses its
/// trailing all-zero levels (village 3 digits, then township 3, county 2,
/// city 2), so the township 430426104000 becomes 430426104 and matches its
/// villages, and the county 430426000000 becomes 430426; a village's code
/// stays whole. Anything shorter is a prefix already and comes back as it
/// is (a skipped level, 441900003000, keeps its zero group: 441900003).
/// Plain string work: checking the digits is the caller's.
pub fn region_prefix(code: &str) -> &str {
    if code.len() != 12 || !code.is_ascii() {
        return code;
    }
    let mut end = 12;
    for width in [3, 3, 2, 2] {
        if code[end - width..end].bytes().all(|b| b == b'0') {
            end -= width;
        } else {
            break;
        }
    }
    &code[..end]
}

/// A valid 12-digit region code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

impl RegionCode {
    /// Parses exactly 12 ASCII digits (surrounding whitespace ignored);
    /// `field` names the input in errors.
    pub fn parse(field: &str, s: &str) -> ServiceResult<Self> {
        let s = s.trim();
        let bad = |reason: String| Err(ServiceError::invalid(field, reason));
        if s.is_empty() {
            return bad("is required".into());
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return bad(format!("{s:?} must contain digits only"));
        }
        if s.len() != 12 {
            return bad(format!("must be 12 digits, got {}", s.len()));
        }
        if &s[..2] == "00" {
            return bad("the province part (digits 1–2) cannot be 00".into());
        }
        if &s[6..9] == "000" && &s[9..] != "000" {
            return bad("a village part is set but the township part (digits 7–9) is 000".into());
        }
        Ok(Self(s.to_owned()))
    }

    /// A region named by its full code or by its prefix — the other side
    /// of [`region_prefix`]: a 2/4/6/9-digit prefix is padded with zeros
    /// (430426104 is the township 430426104000), a full code parsed as
    /// [`RegionCode::parse`] does; so a request that names one region (a
    /// parent, a township, a progress subject) takes either form.
    pub fn parse_named(field: &str, s: &str) -> ServiceResult<Self> {
        let s = s.trim();
        if s.len() < 12 && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return Self::parse(field, &format!("{s:0<12}"));
        }
        Self::parse(field, s)
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 6-digit county part (the future shard key).
    pub fn county(&self) -> &str {
        &self.0[..6]
    }

    /// The 9-digit township part, when the code is at township level or below.
    pub fn township(&self) -> Option<&str> {
        (self.level() >= RegionLevel::Township).then(|| &self.0[..9])
    }

    /// The level: the lowest non-zero digit group.
    pub fn level(&self) -> RegionLevel {
        // Walk up from the village: the first non-zero group is the level.
        RegionLevel::ALL
            .into_iter()
            .rev()
            .find(|l| {
                let group = &self.0[l.group_start()..l.prefix_len()];
                group.bytes().any(|b| b != b'0')
            })
            .unwrap_or(RegionLevel::Province)
    }

    /// The significant prefix: 2/4/6/9/12 digits by level.
    pub fn prefix(&self) -> &str {
        &self.0[..self.level().prefix_len()]
    }

    /// The code with its lowest non-zero group zeroed; None for a province.
    /// For a skipped level (441900003000) that is the nearest real ancestor.
    pub fn parent(&self) -> Option<RegionCode> {
        let keep = match self.level() {
            RegionLevel::Province => return None,
            l => l.group_start(),
        };
        Some(Self(format!("{:0<12}", &self.0[..keep])))
    }

    /// True when this code lies within `other` (or is it).
    pub fn is_within(&self, other: &RegionCode) -> bool {
        self.0.starts_with(other.prefix())
    }

    /// The township type, for township-level codes only.
    pub fn township_kind(&self) -> Option<TownshipKind> {
        if self.level() != RegionLevel::Township {
            return None;
        }
        Some(match self.group(6..9) {
            1..=99 => TownshipKind::Subdistrict,
            100..=199 => TownshipKind::Town,
            200..=399 => TownshipKind::Township,
            _ => TownshipKind::Other,
        })
    }

    /// The village type, for village-level codes only.
    pub fn village_kind(&self) -> Option<VillageKind> {
        if self.level() != RegionLevel::Village {
            return None;
        }
        Some(match self.group(9..12) {
            1..=199 => VillageKind::ResidentsCommittee,
            200..=399 => VillageKind::VillageCommittee,
            400..=499 => VillageKind::ResidentsLike,
            500..=599 => VillageKind::VillageLike,
            _ => VillageKind::Other,
        })
    }

    /// Errors (on `field`) when the code's structure contradicts a declared
    /// level, e.g. a CSV row saying level 5 for a township code.
    pub fn check_level(&self, field: &str, declared: RegionLevel) -> ServiceResult<()> {
        let actual = self.level();
        if actual == declared {
            return Ok(());
        }
        Err(ServiceError::invalid(
            field,
            format!(
                "level {} does not match code {}, which is level {}",
                declared.as_i32(),
                self.0,
                actual.as_i32()
            ),
        ))
    }

    /// A digit group as a number; the code is all digits, so this cannot fail.
    fn group(&self, r: std::ops::Range<usize>) -> u16 {
        self.0[r].parse().unwrap_or(0)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RegionLevel::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse("code", s).expect(s)
    }

    #[test]
    fn a_region_is_named_by_its_code_or_its_prefix() {
        for (given, want) in [
            ("430426104000", "430426104000"),
            ("430426104", "430426104000"),
            (" 430426 ", "430426000000"),
            ("430426104201", "430426104201"),
            ("43", "430000000000"),
        ] {
            let c = RegionCode::parse_named("parent_code", given).expect(given);
            assert_eq!(c.as_str(), want, "{given}");
            assert_eq!(region_prefix(c.as_str()), region_prefix(given.trim()));
        }
        for bad in ["", "00", "43x", "4304261042011"] {
            let e = RegionCode::parse_named("parent_code", bad).unwrap_err();
            assert!(e.to_string().contains("parent_code"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_full_code_stands_for_its_prefix_and_a_prefix_stays() {
        for (given, want) in [
            // Full codes: village, township, county, city, province.
            ("430426104201", "430426104201"),
            ("430426104000", "430426104"),
            ("430426000000", "430426"),
            ("430400000000", "4304"),
            ("430000000000", "43"),
            // A skipped level keeps its zero group (东莞's towns).
            ("441900003000", "441900003"),
            // Prefixes stay as they are, zeros and all.
            ("", ""),
            ("43", "43"),
            ("430426", "430426"),
            ("430426104", "430426104"),
            ("4304261040", "4304261040"),
            ("43042610400", "43042610400"),
            // Not a code: left for the caller's check.
            ("4304261040000", "4304261040000"),
            ("abc", "abc"),
            ("四三〇四", "四三〇四"),
        ] {
            assert_eq!(region_prefix(given), want, "{given}");
        }
        // The same prefix a parsed code gives.
        for c in [
            "430426104201",
            "430426104000",
            "430426000000",
            "441900003000",
        ] {
            assert_eq!(region_prefix(c), code(c).prefix(), "{c}");
        }
    }

    fn err(s: &str) -> String {
        RegionCode::parse("village_code", s)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn levels_prefixes_and_parents() {
        let cases = [
            ("430000000000", Province, "43", None),
            ("430400000000", City, "4304", Some("430000000000")),
            ("430426000000", County, "430426", Some("430400000000")),
            ("430426104000", Township, "430426104", Some("430426000000")),
            (
                "430426104201",
                Village,
                "430426104201",
                Some("430426104000"),
            ),
            // 东莞: townships right under the city; the parent is the city.
            ("441900003000", Township, "441900003", Some("441900000000")),
        ];
        for (s, level, prefix, parent) in cases {
            let c = code(s);
            assert_eq!(c.level(), level, "{s}");
            assert_eq!(RegionLevel::for_code(&c), level, "{s}");
            assert_eq!(c.prefix(), prefix, "{s}");
            assert_eq!(c.parent().as_ref().map(RegionCode::as_str), parent, "{s}");
        }
    }

    #[test]
    fn parts_and_containment() {
        let village = code(" 430426104201\n");
        assert_eq!(village.as_str(), "430426104201");
        assert_eq!(village.to_string(), "430426104201");
        assert_eq!(village.county(), "430426");
        assert_eq!(village.township(), Some("430426104"));
        assert_eq!(code("430426000000").township(), None);
        let township = village.parent().unwrap();
        assert!(village.is_within(&township));
        assert!(village.is_within(&village));
        assert!(village.is_within(&code("430000000000")));
        assert!(!township.is_within(&village));
        assert!(!village.is_within(&code("430426105000")));
    }

    #[test]
    fn type_rules_of_the_code() {
        let t = |s: &str| code(s).township_kind();
        assert_eq!(t("430426004000"), Some(TownshipKind::Subdistrict));
        assert_eq!(t("430426104000"), Some(TownshipKind::Town));
        assert_eq!(t("430426204000"), Some(TownshipKind::Township));
        assert_eq!(t("430426399000"), Some(TownshipKind::Township));
        assert_eq!(t("430426404000"), Some(TownshipKind::Other));
        assert_eq!(t("430426104201"), None);
        assert_eq!(t("430426000000"), None);
        let v = |s: &str| code(s).village_kind();
        assert_eq!(v("430426104001"), Some(VillageKind::ResidentsCommittee));
        assert_eq!(v("430426104201"), Some(VillageKind::VillageCommittee));
        assert_eq!(v("430426104401"), Some(VillageKind::ResidentsLike));
        assert_eq!(v("430426104501"), Some(VillageKind::VillageLike));
        assert_eq!(v("430426104601"), Some(VillageKind::Other));
        assert_eq!(v("430426104000"), None);
        assert_eq!(TownshipKind::Town.label_zh(), "镇");
        assert_eq!(TownshipKind::Subdistrict.label_zh(), "街道");
        assert_eq!(VillageKind::VillageCommittee.label_zh(), "村委会");
        assert_eq!(VillageKind::ResidentsLike.label_zh(), "类似居委会");
    }

    #[test]
    fn bad_codes_name_the_field_and_the_problem() {
        assert!(err("4304261042011").contains("village_code: must be 12 digits, got 13"));
        assert!(err("43042610420").contains("got 11"));
        assert!(err("43042610420x").contains("digits only"));
        assert!(err("4304261042０1").contains("digits only"));
        assert!(err("000426104201").contains("province"));
        assert!(err("430426000201").contains("township part"));
        assert!(err("").contains("required"));
        assert!(err("   ").contains("required"));
    }

    #[test]
    fn csv_levels_and_declared_level_checks() {
        for (n, level) in (1..=5).zip(RegionLevel::ALL) {
            assert_eq!(RegionLevel::from_csv_level(n), Some(level));
            assert_eq!(level.as_i32(), i32::from(n));
        }
        assert_eq!(RegionLevel::from_csv_level(0), None);
        assert_eq!(RegionLevel::from_csv_level(6), None);
        assert!(code("430426104000").check_level("level", Township).is_ok());
        let e = code("430426104000")
            .check_level("rows[3].level", Village)
            .unwrap_err()
            .to_string();
        assert!(e.contains("rows[3].level"), "{e}");
        assert!(e.contains("level 5 does not match code 430426104000, which is level 4"));
    }
}
