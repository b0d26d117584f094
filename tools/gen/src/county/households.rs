//! The households of the demo county: household `i` depends on the seed
//! and `i` alone (village by weight, head of household, a valid ID number
//! of the county, a mobile phone, tags, members, address and location).
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use uuid::Uuid;

use super::{COUNTY, County, words::*};
use crate::{
    people::{FEMALE, MALE, id_number, mobile, person_name},
    rng::{Rng, id},
};

#[derive(Debug, Clone)]
pub struct Household {
    pub id: Uuid,
    pub village: usize,
    pub group: String,
    pub address: String,
    pub head: String,
    pub id_number: String,
    pub phone: String,
    pub members: i32,
    pub tags: Vec<&'static str>,
    pub location: (f64, f64),
}

impl Household {
    pub fn poor(&self) -> bool {
        self.tags.iter().any(|t| POOR_TAGS.contains(t))
    }

    pub fn petitioner(&self) -> bool {
        self.tags.contains(&PETITION_TAG)
    }
}

/// A valid 18-digit ID number of the county (GB 11643 check character).
pub fn county_id_number(birth: NaiveDate, serial: u64) -> String {
    id_number(COUNTY, &birth.format("%Y%m%d").to_string(), serial)
}

pub fn plan_households(seed: u64, n: usize, county: &County) -> Vec<Household> {
    let weights: Vec<u64> = county.villages.iter().map(|v| v.weight).collect();
    let mut ids = HashSet::new();
    let mut phones: HashSet<String> = county.cadres.iter().map(|c| c.phone.clone()).collect();
    let mut numbers: HashMap<usize, u64> = HashMap::new();
    let epoch = NaiveDate::from_ymd_opt(1938, 1, 1).unwrap_or_default();
    (0..n)
        .map(|i| {
            let mut rng = Rng::new(seed, "household", i as u64);
            let village = rng.weighted(&weights);
            let v = &county.villages[village];
            let male = rng.pct(78);
            let head = person_name(&mut rng, if male { MALE } else { FEMALE });
            // Heads of households: born 1938–1995; odd serials are men.
            let id_number = loop {
                let birth = epoch + chrono::Days::new(rng.below(58 * 365));
                let serial = rng.below(500) * 2 + u64::from(male);
                let number = county_id_number(birth, serial);
                if ids.insert(number.clone()) {
                    break number;
                }
            };
            let phone = loop {
                let p = mobile(&mut rng);
                if phones.insert(p.clone()) {
                    break p;
                }
            };
            let mut tags = Vec::new();
            match rng.below(100) {
                0..=7 => tags.push("低保"),
                8..=16 => tags.push("脱贫户"),
                17..=19 => tags.push("脱贫监测户"),
                20..=21 => tags.push("特困户"),
                22 => tags.push("五保户"),
                _ => {}
            }
            let old = rng.pct(11);
            if old {
                tags.push("空巢老人");
            } else if rng.pct(11) {
                tags.push("留守");
            }
            for (tag, p) in [("残疾", 5), ("退役军人", 4), (PETITION_TAG, 2), ("大病", 2)] {
                if rng.pct(p) {
                    tags.push(tag);
                }
            }
            let members = if old {
                rng.range(1, 2) as i32
            } else {
                rng.range(2, 7) as i32
            };
            let group = format!("{}组", 1 + rng.below(v.groups));
            let no = numbers.entry(village).or_insert(0);
            *no += 1 + rng.below(3);
            let address = format!("{}{}{}号", v.name, group, no);
            let location = (
                v.center.0 + 0.008 * rng.signed_unit(),
                v.center.1 + 0.008 * rng.signed_unit(),
            );
            Household {
                id: id(seed, &format!("household/{i}")),
                village,
                group,
                address,
                head,
                id_number,
                phone,
                members,
                tags,
                location,
            }
        })
        .collect()
}
