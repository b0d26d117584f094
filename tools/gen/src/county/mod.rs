//! The demo county (祁东县, 430426) made from a seed: townships and villages
//! in the 12-digit code format with work zones (工作片), township and county
//! cadres with unique names and phones, and the work-team members who
//! answer for each village (联系村); then its [`households`] and a
//! simulated [`campaign`] with the [`model`] of what the services end up
//! holding. Everything follows from the seed (and the size) alone.
use std::collections::HashSet;

use uuid::Uuid;
use zoufang_core::auth::roles;
use zoufang_proto::registry::v1::CadreUnit;

use crate::{
    people::{CADRE_GIVEN, person_name},
    rng::{Rng, id},
};

pub mod campaign;
pub mod households;
pub mod model;
pub mod words;

use words::*;

/// The demo county: 祁东县, Hunan (衡阳市).
pub const COUNTY: &str = "430426";
/// Its 12-digit code (the summary's `region_code`).
pub const COUNTY_CODE: &str = "430426000000";
pub const COUNTY_NAME: &str = "祁东县";
/// Roughly the county seat, WGS-84.
pub const CENTER: (f64, f64) = (26.787, 112.111);

#[derive(Debug, Clone)]
pub struct Township {
    pub code: String,
    pub name: String,
    pub villages: Vec<usize>,
    /// (zone id, name, villages).
    pub zones: Vec<(Uuid, String, Vec<usize>)>,
    pub secretary: usize,
    pub mayor: usize,
    pub leaders: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Village {
    pub code: String,
    pub name: String,
    pub township: usize,
    pub center: (f64, f64),
    pub groups: u64,
    pub weight: u64,
    /// The work-team member responsible (联系村).
    pub member: usize,
    /// The zone index within its township.
    pub zone: usize,
}

#[derive(Debug, Clone)]
pub struct Cadre {
    pub id: Uuid,
    pub name: String,
    pub phone: String,
    pub unit: CadreUnit,
    pub position: &'static str,
    pub region: String,
    pub roles: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct County {
    pub townships: Vec<Township>,
    pub villages: Vec<Village>,
    pub cadres: Vec<Cadre>,
    pub departments: Vec<usize>,
    pub supervisors: Vec<usize>,
}

/// Picks `n` distinct items of `xs` in a seeded order.
pub fn choose<'a>(rng: &mut Rng, xs: &[&'a str], n: usize) -> Vec<&'a str> {
    let mut pool: Vec<&str> = xs.to_vec();
    let mut out = Vec::new();
    while out.len() < n && !pool.is_empty() {
        let i = rng.below(pool.len() as u64) as usize;
        out.push(pool.remove(i));
    }
    out
}

/// Registers cadres of the county plan, each with a unique name and phone.
pub struct CadreMaker {
    pub seed: u64,
    pub names: HashSet<String>,
    pub cadres: Vec<Cadre>,
}

impl CadreMaker {
    pub fn make(
        &mut self,
        rng: &mut Rng,
        key: &str,
        unit: CadreUnit,
        position: &'static str,
        region: &str,
        roles: Vec<&'static str>,
    ) -> usize {
        let name = loop {
            let n = person_name(rng, CADRE_GIVEN);
            if self.names.insert(n.clone()) {
                break n;
            }
        };
        let n = self.cadres.len();
        self.cadres.push(Cadre {
            id: id(self.seed, &format!("cadre/{key}")),
            name,
            phone: format!("1380734{:04}", n + 1),
            unit,
            position,
            region: region.to_owned(),
            roles,
        });
        n
    }
}

pub fn plan_county(seed: u64) -> County {
    let mut rng = Rng::new(seed, "county", 0);
    let mut names: Vec<(&str, bool)> = choose(&mut rng, TOWNS, 6)
        .into_iter()
        .map(|n| (n, true))
        .collect();
    names.extend(choose(&mut rng, XIANG, 2).into_iter().map(|n| (n, false)));
    let mut townships = Vec::new();
    let mut villages = Vec::new();
    let mut used_village_names = HashSet::new();
    let mut cadres = CadreMaker {
        seed,
        names: HashSet::new(),
        cadres: Vec::new(),
    };
    let (mut town_no, mut xiang_no) = (100u64, 200u64);
    for (t, (name, town)) in names.into_iter().enumerate() {
        let number = if town {
            town_no += 1 + rng.below(2);
            town_no
        } else {
            xiang_no += 1 + rng.below(2);
            xiang_no
        };
        let code = format!("{COUNTY}{number:03}000");
        let center = (
            CENTER.0 + 0.22 * rng.signed_unit(),
            CENTER.1 + 0.26 * rng.signed_unit(),
        );
        let n_villages = rng.range(10, 17) as usize;
        let mut vs = Vec::new();
        if town {
            // The seat of a town is a community (社区, a residents' committee: 001–199).
            let stem = name.trim_end_matches('镇');
            vs.push(villages.len());
            villages.push(Village {
                code: format!("{}001", &code[..9]),
                name: format!("{stem}社区"),
                township: t,
                center,
                groups: rng.range(6, 10) as u64,
                weight: rng.range(150, 220) as u64,
                member: 0,
                zone: 0,
            });
        }
        for k in 0..n_villages {
            let vname = loop {
                let stem = if rng.pct(55) {
                    (*rng.pick(VILLAGE_STEMS)).to_owned()
                } else {
                    format!("{}{}", rng.pick(FIRST), rng.pick(SECOND))
                };
                let n = format!("{stem}村");
                if used_village_names.insert(n.clone()) {
                    break n;
                }
            };
            vs.push(villages.len());
            villages.push(Village {
                code: format!("{}{:03}", &code[..9], 201 + k),
                name: vname,
                township: t,
                center: (
                    center.0 + 0.035 * rng.signed_unit(),
                    center.1 + 0.04 * rng.signed_unit(),
                ),
                groups: rng.range(6, 12) as u64,
                weight: rng.range(60, 160) as u64,
                member: 0,
                zone: 0,
            });
        }
        let region = &code[..9];
        let head = if town { "镇" } else { "乡" };
        let admin = vec![roles::TOWNSHIP_ADMIN, roles::CADRE];
        let office = CadreUnit::TownshipOffice;
        let key = |what: &str| format!("{t}/{what}");
        let secretary = cadres.make(
            &mut rng,
            &key("secretary"),
            office,
            "党委书记",
            region,
            admin.clone(),
        );
        let mayor = cadres.make(&mut rng, &key("mayor"), office, "乡镇长", region, admin);
        // Work zones (工作片): three or four, each led by a member of the leadership (包片).
        let n_zones = if vs.len() >= 14 { 4 } else { 3 };
        let mut zones = Vec::new();
        let mut leaders = Vec::new();
        for z in 0..n_zones {
            let members: Vec<usize> = vs
                .iter()
                .enumerate()
                .filter(|(i, _)| i * n_zones / vs.len() == z)
                .map(|(_, v)| *v)
                .collect();
            for v in &members {
                villages[*v].zone = z;
            }
            let zname = format!("{head}{}片区", ["第一", "第二", "第三", "第四"][z]);
            zones.push((id(seed, &format!("zone/{t}/{z}")), zname, members));
            leaders.push(cadres.make(
                &mut rng,
                &key(&format!("leader/{z}")),
                office,
                "班子成员",
                region,
                vec![roles::CADRE],
            ));
        }
        // Work-team members (工作队员): each answers for one or two villages (联系村).
        let (mut k, mut m_no) = (0, 0);
        while k < vs.len() {
            let left = vs.len() - k;
            let take = if left >= 3 || (left == 2 && rng.pct(50)) {
                2
            } else {
                1
            };
            let m = cadres.make(
                &mut rng,
                &key(&format!("member/{m_no}")),
                office,
                "工作队员",
                region,
                vec![roles::CADRE],
            );
            for v in &vs[k..(k + take).min(vs.len())] {
                villages[*v].member = m;
            }
            m_no += 1;
            k += take;
        }
        townships.push(Township {
            code,
            name: name.to_owned(),
            villages: vs,
            zones,
            secretary,
            mayor,
            leaders,
        });
    }
    let departments = (0..DEPARTMENTS.len())
        .map(|d| {
            cadres.make(
                &mut rng,
                &format!("department/{d}"),
                CadreUnit::CountyDepartment,
                "县直部门干部",
                COUNTY,
                vec![roles::CADRE],
            )
        })
        .collect();
    let supervisors = (0..3)
        .map(|s| {
            cadres.make(
                &mut rng,
                &format!("supervisor/{s}"),
                CadreUnit::CountyDepartment,
                "督查组成员",
                COUNTY,
                vec![roles::SUPERVISOR],
            )
        })
        .collect();
    County {
        townships,
        villages,
        cadres: cadres.cadres,
        departments,
        supervisors,
    }
}

pub fn region_csv(c: &County) -> String {
    let mut lines = vec![
        "code,name,level,pcode".to_owned(),
        "430000000000,湖南省,1,".into(),
        "430400000000,衡阳市,2,430000000000".into(),
        format!("{COUNTY_CODE},{COUNTY_NAME},3,430400000000"),
    ];
    for t in &c.townships {
        lines.push(format!("{},{},4,{COUNTY_CODE}", t.code, t.name));
        for v in &t.villages {
            let v = &c.villages[*v];
            lines.push(format!("{},{},5,{}", v.code, v.name, t.code));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::NaiveDate;
    use zoufang_types::{IdNumber, MobilePhone, RegionCode, RegionLevel};

    use super::{households::plan_households, *};

    #[test]
    fn the_county_has_valid_codes_and_unique_people_and_is_reproducible() {
        let county = plan_county(7);
        assert_eq!(format!("{county:?}"), format!("{:?}", plan_county(7)));
        assert_ne!(format!("{county:?}"), format!("{:?}", plan_county(8)));
        for t in &county.townships {
            let code = RegionCode::parse("code", &t.code).expect("township code");
            assert_eq!(code.level(), RegionLevel::Township);
            assert_eq!(code.county(), COUNTY);
        }
        for v in &county.villages {
            let code = RegionCode::parse("code", &v.code).expect("village code");
            assert_eq!(code.level(), RegionLevel::Village);
            assert_eq!(&v.code[..9], &county.townships[v.township].code[..9]);
        }
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let households = plan_households(7, 300, &county);
        let mut ids = HashSet::new();
        let mut phones: HashSet<&str> = county.cadres.iter().map(|c| c.phone.as_str()).collect();
        for h in &households {
            IdNumber::parse_on("id", &h.id_number, today).expect("valid ID number");
            MobilePhone::parse("phone", &h.phone).expect("valid phone");
            assert!(ids.insert(h.id_number.as_str()), "{} twice", h.id_number);
            assert!(phones.insert(h.phone.as_str()), "{} twice", h.phone);
        }
        assert_eq!(
            format!("{households:?}"),
            format!("{:?}", plan_households(7, 300, &county))
        );
    }
}
