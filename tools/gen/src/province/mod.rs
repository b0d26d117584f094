//! A province shaped like Hunan's (14 cities, 123 counties, ~1,500
//! townships, ~24,000 villages) with one campaign, one supervision team and
//! its supervisors per county, township staff and village cadres, and
//! households spread over the villages by weight. Every row made from it
//! ([`rows`], [`tables`]) is a function of the seed and its index, so
//! nothing is held in memory and the same seed makes the same province.
use uuid::Uuid;

use crate::rng::{Rng, uuid_of};

pub mod copy;
pub mod rows;
pub mod tables;
pub mod words;

// Streams of the generator (uuid kinds and per-row randomness).
pub const K_PROVINCE: u64 = 1;
pub const K_HOUSEHOLD: u64 = 2;
pub const K_TRAITS: u64 = 3;
pub const K_VISITS: u64 = 4;
pub const K_VISIT: u64 = 5;
pub const K_ISSUE: u64 = 6;
pub const K_CALLBACK: u64 = 7;
pub const K_CADRE: u64 = 8;
pub const K_CAMPAIGN: u64 = 9;
pub const K_SUPERVISOR: u64 = 10;
pub const K_TEAM: u64 = 11;
pub const K_OTHER_ISSUE: u64 = 12;

/// Township office staff per township, cadres per village committee,
/// supervisors per county.
pub const STAFF: u64 = 20;
pub const VILLAGE_CADRES: u64 = 3;
pub const SUPERVISORS: u64 = 10;

/// Hunan's 14 prefecture-level divisions and their county-level counts.
pub const CITIES: &[(&str, &str, usize)] = &[
    ("01", "长沙市", 9),
    ("02", "株洲市", 9),
    ("03", "湘潭市", 5),
    ("04", "衡阳市", 12),
    ("05", "邵阳市", 12),
    ("06", "岳阳市", 9),
    ("07", "常德市", 9),
    ("08", "张家界市", 4),
    ("09", "益阳市", 6),
    ("10", "郴州市", 11),
    ("11", "永州市", 11),
    ("12", "怀化市", 13),
    ("13", "娄底市", 5),
    ("31", "湘西土家族苗族自治州", 8),
];

pub const PLACE_A: &[&str] = &[
    "白", "黄", "青", "石", "龙", "凤", "桃", "花", "金", "银", "新", "太", "大", "小", "长", "高",
    "东", "西", "南", "北", "双", "马", "鹤", "杨", "柳", "松", "竹", "梅", "荷", "莲", "清", "永",
    "安", "福", "兴", "和", "平", "泉", "溪", "湖",
];
pub const PLACE_B: &[&str] = &[
    "塘", "岭", "江", "山", "田", "坪", "冲", "湾", "桥", "口", "铺", "源", "坡", "洲", "港", "峰",
    "园", "家", "林", "堂", "阳", "水", "河", "陂", "垸",
];
#[derive(Debug, Clone)]
pub struct County {
    pub code: String,
    pub name: String,
    pub campaign_id: Uuid,
    pub team_id: Uuid,
    pub supervisors: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Township {
    /// 12-digit code.
    pub code: String,
    pub name: String,
    pub county: usize,
    pub villages: std::ops::Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Village {
    pub code: String,
    pub name: String,
    pub township: usize,
    pub county: usize,
    /// Households registered here, and the global index of the first.
    pub households: u64,
    pub first: u64,
}

#[derive(Debug, Clone)]
pub struct Province {
    pub seed: u64,
    pub counties: Vec<County>,
    pub townships: Vec<Township>,
    pub villages: Vec<Village>,
}

pub fn place(r: &mut Rng) -> String {
    format!("{}{}", r.word(PLACE_A), r.word(PLACE_B))
}

impl Province {
    /// The province (or its first `limit` counties) with `households`
    /// spread over the villages by weight.
    pub fn generate(seed: u64, limit: Option<usize>, households: u64) -> Self {
        let mut r = Rng::at(seed, K_PROVINCE, 0);
        let (mut counties, mut townships, mut villages) = (Vec::new(), Vec::new(), Vec::new());
        let mut weights = Vec::new();
        'cities: for (city, _, n) in CITIES {
            for k in 0..*n {
                if limit.is_some_and(|l| counties.len() >= l) {
                    break 'cities;
                }
                let idx = counties.len();
                let code = format!("43{city}{:02}", if k < 4 { 2 + k } else { 17 + k });
                let n_townships = r.range(7, 18) as usize;
                let n_sub = r.range(0, 2) as usize;
                let n_town = (n_townships - n_sub) * 3 / 5;
                for t in 0..n_townships {
                    let (digits, suffix) = if t < n_sub {
                        (1 + t, "街道")
                    } else if t < n_sub + n_town {
                        (101 + t - n_sub, "镇")
                    } else {
                        (201 + t - n_sub - n_town, "乡")
                    };
                    let tcode = format!("{code}{digits:03}000");
                    let ti = townships.len();
                    let first_village = villages.len();
                    let n_villages = r.range(8, 24) as usize;
                    let communities = match suffix {
                        "街道" => n_villages,
                        "镇" => r.range(1, 2) as usize,
                        _ => 0,
                    };
                    for v in 0..n_villages {
                        let (vd, vs) = if v < communities {
                            (1 + v, "社区")
                        } else {
                            (201 + v - communities, "村")
                        };
                        villages.push(Village {
                            code: format!("{}{vd:03}", &tcode[..9]),
                            name: format!("{}{vs}", place(&mut r)),
                            township: ti,
                            county: idx,
                            households: 0,
                            first: 0,
                        });
                        weights.push(if vs == "社区" { 1.5 } else { 0.5 } + r.unit());
                    }
                    townships.push(Township {
                        code: tcode,
                        name: format!("{}{suffix}", place(&mut r)),
                        county: idx,
                        villages: first_village..villages.len(),
                    });
                }
                counties.push(County {
                    name: format!("{}县", place(&mut r)),
                    campaign_id: uuid_of(seed, K_CAMPAIGN, idx as u64),
                    team_id: uuid_of(seed, K_TEAM, idx as u64),
                    supervisors: (0..SUPERVISORS)
                        .map(|s| uuid_of(seed, K_SUPERVISOR, idx as u64 * 100 + s).to_string())
                        .collect(),
                    code,
                });
            }
        }
        // Households by weight, largest remainders last, so the total is exact.
        let total: f64 = weights.iter().sum();
        let mut given = 0u64;
        for (v, w) in villages.iter_mut().zip(&weights) {
            v.households = (households as f64 * w / total) as u64;
            given += v.households;
        }
        let n = villages.len() as u64;
        for i in 0..households - given {
            villages[(i * 7919 % n) as usize].households += 1;
        }
        let mut first = 0;
        for v in &mut villages {
            v.first = first;
            first += v.households;
        }
        Self {
            seed,
            counties,
            townships,
            villages,
        }
    }

    pub fn household_id(&self, h: u64) -> Uuid {
        uuid_of(self.seed, K_HOUSEHOLD, h)
    }

    /// Cadre `c` of village `v` (村两委), or staff member `s` of township `t`.
    pub fn village_cadre(&self, v: usize, c: u64) -> Uuid {
        uuid_of(self.seed, K_CADRE, v as u64 * VILLAGE_CADRES + c)
    }

    pub fn staff(&self, t: usize, s: u64) -> Uuid {
        uuid_of(self.seed, K_CADRE, (1 << 40) | (t as u64 * STAFF + s))
    }
}

/// What a household is, recomputed identically wherever it is needed.
#[derive(Debug, Clone)]
pub struct Traits {
    pub members: i64,
    pub tags: Vec<&'static str>,
    pub has_phone: bool,
}

pub const TAGS: &[(&str, f64)] = &[
    ("低保户", 0.06),
    ("脱贫户", 0.08),
    ("特困户", 0.015),
    ("五保户", 0.01),
    ("残疾", 0.04),
    ("脱贫监测户", 0.02),
    ("留守", 0.06),
    ("空巢老人", 0.08),
    ("退役军人", 0.03),
    ("重点信访", 0.005),
];

pub fn traits(seed: u64, h: u64) -> Traits {
    let mut r = Rng::at(seed, K_TRAITS, h);
    let tags = TAGS
        .iter()
        .filter(|(_, p)| r.chance(*p))
        .map(|(t, _)| *t)
        .collect();
    Traits {
        members: r.range(1, 7),
        tags,
        has_phone: r.chance(0.9),
    }
}

#[cfg(test)]
mod tests {
    use zoufang_types::{RegionCode, RegionLevel};

    use super::*;

    #[test]
    fn the_province_has_valid_codes_and_exactly_the_households_asked_for() {
        let p = Province::generate(9, Some(5), 10_007);
        assert_eq!(p.counties.len(), 5);
        assert_eq!(p.villages.iter().map(|v| v.households).sum::<u64>(), 10_007);
        for t in &p.townships {
            let code = RegionCode::parse("code", &t.code).expect("township code");
            assert_eq!(code.level(), RegionLevel::Township);
            assert_eq!(code.county(), p.counties[t.county].code);
        }
        for v in &p.villages {
            let code = RegionCode::parse("code", &v.code).expect("village code");
            assert_eq!(code.level(), RegionLevel::Village);
        }
        let again = Province::generate(9, Some(5), 10_007);
        assert_eq!(format!("{p:?}"), format!("{again:?}"));
    }

    #[test]
    fn the_whole_province_is_hunan_sized() {
        let p = Province::generate(9, None, 15_000_000);
        eprintln!(
            "{} counties, {} townships, {} villages",
            p.counties.len(),
            p.townships.len(),
            p.villages.len()
        );
        assert_eq!(p.counties.len(), 123);
        assert!((1_200..=1_900).contains(&p.townships.len()));
        assert!((18_000..=30_000).contains(&p.villages.len()));
    }
}
