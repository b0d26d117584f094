//! The names a sheet shows instead of ids: regions, households (the head's
//! name, group, size, masked phone, tags) and cadres. Filled by `lookup`
//! from the registry as the caller; read by the pure row builders.
use std::collections::HashMap;

use zoufang_proto::registry::v1::Household;

/// What a sheet shows of a household. Never the ID number; the phone only
/// masked (3+4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdInfo {
    pub head_name: String,
    pub group_name: String,
    pub member_count: i32,
    pub phone: String,
    pub tags: Vec<String>,
}

impl From<&Household> for HouseholdInfo {
    fn from(h: &Household) -> Self {
        Self {
            head_name: h.head_name.clone(),
            group_name: h.group_name.clone(),
            member_count: h.member_count,
            // The registry masks unless asked to reveal, which the export
            // never does; mask again so a full number can never leak here.
            phone: mask_phone(&h.phone),
            tags: h.tags.clone(),
        }
    }
}

/// `138****5678`; a value already masked is kept; anything else short is
/// hidden entirely.
pub fn mask_phone(phone: &str) -> String {
    let p = phone.trim();
    if p.is_empty() || p.contains('*') {
        return p.to_owned();
    }
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Names by id, as far as the caller may see them.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    regions: HashMap<String, String>,
    households: HashMap<String, HouseholdInfo>,
    cadres: HashMap<String, String>,
}

impl Directory {
    /// Names a 12-digit region code.
    pub fn add_region(&mut self, code: &str, name: &str) {
        self.regions.insert(code.to_owned(), name.to_owned());
    }

    /// Adds a household by its id.
    pub fn add_household(&mut self, id: &str, info: HouseholdInfo) {
        self.households.insert(id.to_owned(), info);
    }

    /// Names a cadre.
    pub fn add_cadre(&mut self, id: &str, name: &str) {
        self.cadres.insert(id.to_owned(), name.to_owned());
    }

    /// Whether the household is known.
    pub fn has_household(&self, id: &str) -> bool {
        self.households.contains_key(id)
    }

    /// The name of a 12-digit code, if known.
    pub fn region_name(&self, code: &str) -> Option<&str> {
        self.regions.get(code).map(String::as_str)
    }

    /// The township (乡镇/街道) a code lies in, by name; its code when the
    /// name is unknown; empty above the township level.
    pub fn township_of(&self, code: &str) -> String {
        match township_code(code) {
            Some(t) => self.region_name(&t).map_or(t.clone(), str::to_owned),
            None => String::new(),
        }
    }

    /// The village (村/社区) a code names; empty for a township or above.
    pub fn village_of(&self, code: &str) -> String {
        if !is_village(code) {
            return String::new();
        }
        self.region_name(code).unwrap_or(code).to_owned()
    }

    /// The household, when the caller may see it.
    pub fn household(&self, id: &str) -> Option<&HouseholdInfo> {
        self.households.get(id)
    }

    /// A cadre's name; the id itself when the cadre is outside the caller's
    /// view (e.g. a county leader on a township admin's sheet).
    pub fn cadre(&self, id: &str) -> String {
        self.cadres
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }
}

/// Whether a code is a 12-digit village (or community) code.
pub fn is_village(code: &str) -> bool {
    code.len() == 12 && code.bytes().all(|b| b.is_ascii_digit()) && &code[9..] != "000"
}

/// The 12-digit township code of a code at township level or below.
pub fn township_code(code: &str) -> Option<String> {
    let digits = code.len() >= 9 && code.bytes().all(|b| b.is_ascii_digit());
    (digits && &code[6..9] != "000").then(|| format!("{}000", &code[..9]))
}

/// The 12-digit county code of a code at county level or below.
pub fn county_code(code: &str) -> Option<String> {
    let digits = code.len() >= 6 && code.bytes().all(|b| b.is_ascii_digit());
    (digits && &code[4..6] != "00").then(|| format!("{}000000", &code[..6]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_masked_whatever_arrives() {
        assert_eq!(mask_phone("139****0001"), "139****0001");
        assert_eq!(mask_phone("13907340001"), "139****0001");
        assert_eq!(mask_phone("0734-1234"), "073****1234");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_phone(""), "");
        let h = Household {
            head_name: "唐怀珠".into(),
            id_number: "430426194001010011".into(),
            phone: "13907340001".into(),
            revealed: true,
            ..Default::default()
        };
        let info = HouseholdInfo::from(&h);
        assert_eq!(info.phone, "139****0001");
        assert!(!format!("{info:?}").contains("430426194001010011"));
    }

    #[test]
    fn region_parts_and_names() {
        let mut d = Directory::default();
        d.add_region("430426104000", "白鹤铺镇");
        d.add_region("430426104201", "黄龙村");
        assert_eq!(d.township_of("430426104201"), "白鹤铺镇");
        assert_eq!(d.village_of("430426104201"), "黄龙村");
        assert_eq!(d.township_of("430426104000"), "白鹤铺镇");
        assert_eq!(d.village_of("430426104000"), "");
        assert_eq!(d.township_of("430426105201"), "430426105000");
        assert_eq!(d.village_of("430426105201"), "430426105201");
        assert_eq!(d.township_of("430426000000"), "");
        assert_eq!(county_code("430426104201").as_deref(), Some("430426000000"));
        assert_eq!(county_code("430400000000"), None);
        assert_eq!(township_code("4304261"), None);
        assert_eq!(d.cadre("c-1"), "c-1");
        d.add_cadre("c-1", "周飞好");
        assert_eq!(d.cadre("c-1"), "周飞好");
    }
}
