//! The region table as an import needs it: villages and townships by code
//! and by the names people write (黄龙村, 黄龙村委会, 黄龙), read from the
//! registry with the caller's token, so it holds only what the caller may see.
use std::collections::{HashMap, HashSet};

use zoufang_proto::registry::v1::{ListRegionsRequest, Region};
use zoufang_types::{RegionCode, RegionLevel};

use super::check::{halfwidth, level_name, region_code};
use crate::door::Backend;

/// Villages and townships the caller can see, in the counties loaded.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Township code (12 digits) → name.
    townships: HashMap<String, String>,
    /// Village code → (name, township code).
    villages: HashMap<String, (String, String)>,
    /// Areas loaded (6-digit counties or 9-digit townships).
    loaded: HashSet<String>,
    /// Name keys (exact, loose) → codes, for villages and townships.
    village_exact: HashMap<String, Vec<String>>,
    village_loose: HashMap<String, Vec<String>>,
    township_exact: HashMap<String, Vec<String>>,
    township_loose: HashMap<String, Vec<String>>,
}

/// A name's exact key: spaces and the committee suffix dropped
/// (黄龙村委会 / 黄龙村民委员会 → 黄龙村; 桃源社区居委会 → 桃源社区).
fn exact_key(name: &str) -> String {
    let s: String = halfwidth(name)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for (suffix, keep) in [
        ("村民委员会", "村"),
        ("居民委员会", ""),
        ("村委会", "村"),
        ("居委会", ""),
    ] {
        if let Some(stem) = s.strip_suffix(suffix) {
            return format!("{stem}{keep}");
        }
    }
    s
}

/// A name's loose key: the exact key without 村/社区/镇/乡/街道 (黄龙村 → 黄龙).
fn loose_key(name: &str) -> String {
    let s = exact_key(name);
    for suffix in ["街道办事处", "街道", "社区", "村", "镇", "乡"] {
        if let Some(stem) = s.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return stem.to_owned();
        }
    }
    s
}

impl Directory {
    /// Adds what ListRegions returned for a county or township.
    pub fn add(&mut self, area: &str, townships: &[Region], villages: &[Region]) {
        self.loaded.insert(area.to_owned());
        let index = |map: &mut HashMap<String, Vec<String>>, key: String, code: &str| {
            let codes = map.entry(key).or_default();
            if !codes.iter().any(|c| c == code) {
                codes.push(code.to_owned());
                codes.sort_unstable();
            }
        };
        for t in townships {
            self.townships.insert(t.code.clone(), t.name.clone());
            index(&mut self.township_exact, exact_key(&t.name), &t.code);
            index(&mut self.township_loose, loose_key(&t.name), &t.code);
        }
        for v in villages {
            self.villages
                .insert(v.code.clone(), (v.name.clone(), v.parent_code.clone()));
            index(&mut self.village_exact, exact_key(&v.name), &v.code);
            index(&mut self.village_loose, loose_key(&v.name), &v.code);
        }
    }

    /// The codes of the townships loaded whose code starts with `prefix`.
    pub fn townships_in(&self, prefix: &str) -> Vec<String> {
        let mut codes: Vec<String> = self
            .townships
            .keys()
            .filter(|c| c.starts_with(prefix))
            .cloned()
            .collect();
        codes.sort();
        codes
    }

    /// True when nothing at all is loaded (names cannot be resolved).
    pub fn is_empty(&self) -> bool {
        self.loaded.is_empty()
    }

    fn townships_named(&self, name: &str) -> Vec<&str> {
        lookup(&self.township_exact, &self.township_loose, name, |_| true)
    }

    /// A township's code by name or code, within the directory.
    pub fn township(&self, value: &str) -> Result<String, String> {
        let v = halfwidth(value.trim());
        if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() {
            let padded = format!("{v:0<12}");
            return if self.townships.contains_key(&padded) {
                Ok(padded)
            } else {
                Err(format!(
                    "区划表中没有代码为{v}的乡镇，或它不在您的管辖范围内"
                ))
            };
        }
        match self.townships_named(&v)[..] {
            [] => Err(format!(
                "区划表中找不到名为“{v}”的乡镇，或它不在您的管辖范围内"
            )),
            [one] => Ok(one.to_owned()),
            ref many => Err(format!("有{}个名为“{v}”的乡镇，请改填乡镇代码", many.len())),
        }
    }

    /// A village's 12-digit code from what a row says: its code, or its
    /// name (within `township` when the row names one). `scope` is the
    /// caller's; a village outside it is refused.
    pub fn village(
        &self,
        value: &str,
        township: Option<&str>,
        scope: &str,
    ) -> Result<String, String> {
        let v = halfwidth(value.trim());
        if v.is_empty() {
            return Err("不能为空".into());
        }
        if v.bytes().all(|b| b.is_ascii_digit()) {
            let code = region_code(&v)?;
            if code.level() != RegionLevel::Village {
                return Err(format!(
                    "{code}是{}区划代码，不是村（社区）",
                    level_name(code.level())
                ));
            }
            if !code.as_str().starts_with(scope) {
                return Err(out_of_scope(code.as_str(), scope));
            }
            return if self.villages.contains_key(code.as_str()) {
                Ok(code.as_str().to_owned())
            } else {
                Err(format!("村代码{code}不在区划表中，请先导入区划"))
            };
        }
        if self.is_empty() {
            return Err(format!(
                "无法按名称查找“{v}”：请在导入地址中用 region 参数指明县（区）或乡镇代码，或改填12位村代码"
            ));
        }
        let found = lookup(&self.village_exact, &self.village_loose, &v, |code| {
            township.is_none_or(|t| self.villages.get(code).is_some_and(|(_, p)| p == t))
        });
        match found[..] {
            [] => Err(format!(
                "区划表中找不到名为“{v}”的村（社区），或它不在您的管辖范围内"
            )),
            [one] if !one.starts_with(scope) => Err(out_of_scope(one, scope)),
            [one] => Ok(one.to_owned()),
            ref many => {
                let towns: Vec<String> = many
                    .iter()
                    .map(|c| {
                        let t = &self.villages[*c].1;
                        self.townships.get(t).cloned().unwrap_or_else(|| t.clone())
                    })
                    .collect();
                Err(format!(
                    "有{}个名为“{v}”的村（社区）（分别在{}），请填写所属乡镇或12位村代码",
                    many.len(),
                    towns.join("、")
                ))
            }
        }
    }

    /// A cadre's work area as a region prefix (6, 9 or 12 digits): a code,
    /// or the name of a township or village.
    pub fn area(&self, value: &str, scope: &str) -> Result<String, String> {
        let v = halfwidth(value.trim());
        if v.is_empty() {
            return Err("不能为空".into());
        }
        let prefix = if v.bytes().all(|b| b.is_ascii_digit()) {
            let code = match v.len() {
                6 | 9 => region_code(&format!("{v:0<12}"))?,
                _ => region_code(&v)?,
            };
            let prefix = code.prefix().to_owned();
            if prefix.len() < 6 {
                return Err(format!(
                    "工作区域{code}是{}区划；干部的工作区域至少是一个县",
                    level_name(code.level())
                ));
            }
            prefix
        } else {
            match (self.township(&v), self.village(&v, None, scope)) {
                (Ok(t), _) => t[..9].to_owned(),
                (Err(_), Ok(village)) => village,
                (Err(_), Err(e)) if e.starts_with("区划表中找不到") => {
                    return Err(format!(
                        "区划表中找不到名为“{v}”的乡镇或村（社区），或它不在您的管辖范围内"
                    ));
                }
                (Err(_), Err(e)) => return Err(e),
            }
        };
        if !prefix.starts_with(scope) {
            return Err(out_of_scope(&prefix, scope));
        }
        Ok(prefix)
    }
}

/// Codes whose name matches `name` exactly (after [`exact_key`]), else
/// loosely (after [`loose_key`]), among those `keep` accepts.
fn lookup<'d>(
    exact: &'d HashMap<String, Vec<String>>,
    loose: &'d HashMap<String, Vec<String>>,
    name: &str,
    keep: impl Fn(&str) -> bool,
) -> Vec<&'d str> {
    let pick = |m: &'d HashMap<String, Vec<String>>, key: String| -> Vec<&'d str> {
        m.get(&key)
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|c| keep(c))
            .collect()
    };
    let found = pick(exact, exact_key(name));
    if found.is_empty() {
        pick(loose, loose_key(name))
    } else {
        found
    }
}

fn out_of_scope(code: &str, scope: &str) -> String {
    format!("{code}不在您的管辖范围（{scope}）内")
}

/// The areas to load for an import: the requested area (or the caller's
/// scope) when it names at least a county, and the county of every
/// 12-digit code in `codes` that the scope covers.
pub fn areas_to_load<'a>(
    area: &str,
    codes: impl Iterator<Item = &'a str>,
    scope: &str,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |a: String| {
        if !out.iter().any(|o| a.starts_with(o.as_str())) {
            out.retain(|o| !o.starts_with(&a));
            out.push(a);
        }
    };
    if area.len() >= 6 {
        add(area[..if area.len() >= 9 { 9 } else { 6 }].to_owned());
    }
    for code in codes {
        let c = halfwidth(code.trim());
        if c.len() == 12 && c.bytes().all(|b| b.is_ascii_digit()) && c.starts_with(scope) {
            add(c[..6].to_owned());
        }
    }
    out.sort();
    out
}

/// Loads the villages and townships of `areas` (counties or townships)
/// from the registry, as the caller.
pub async fn load(
    state: &Backend,
    token: &str,
    areas: Vec<String>,
) -> Result<Directory, tonic::Status> {
    let client = state.upstreams.registry(token);
    let mut dir = Directory::default();
    for area in areas {
        let county = format!("{:0<12}", &area[..6]);
        let townships: Vec<Region> = children(client.clone(), county)
            .await?
            .into_iter()
            .filter(|r| {
                RegionCode::parse("code", &r.code).is_ok_and(|c| {
                    c.level() == RegionLevel::Township && c.as_str().starts_with(area.as_str())
                })
            })
            .collect();
        let mut villages = Vec::new();
        for t in &townships {
            villages.extend(children(client.clone(), t.code.clone()).await?);
        }
        dir.add(&area, &townships, &villages);
    }
    Ok(dir)
}

async fn children(
    mut client: super::RegistryClient,
    parent_code: String,
) -> Result<Vec<Region>, tonic::Status> {
    Ok(client
        .list_regions(ListRegionsRequest { parent_code })
        .await?
        .into_inner()
        .regions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str, name: &str, parent: &str) -> Region {
        Region {
            code: code.into(),
            name: name.into(),
            level: 0,
            parent_code: parent.into(),
            kind: String::new(),
        }
    }

    fn county() -> Directory {
        let mut d = Directory::default();
        d.add(
            "430426",
            &[
                region("430426104000", "白鹤铺镇", "430426000000"),
                region("430426105000", "太和堂镇", "430426000000"),
            ],
            &[
                region("430426104201", "黄龙村委会", "430426104000"),
                region("430426104202", "肖家村", "430426104000"),
                region("430426105201", "新塘村", "430426105000"),
                region("430426105202", "黄龙村", "430426105000"),
                region("430426105203", "桃源社区居委会", "430426105000"),
            ],
        );
        d
    }

    #[test]
    fn villages_by_code_and_by_the_names_people_write() {
        let d = county();
        assert_eq!(
            d.village("430426104202", None, "430426"),
            Ok("430426104202".into())
        );
        assert_eq!(
            d.village("肖家村", None, "430426"),
            Ok("430426104202".into())
        );
        assert_eq!(d.village("肖家", None, "430426"), Ok("430426104202".into()));
        assert_eq!(
            d.village("桃源社区", None, "430426"),
            Ok("430426105203".into())
        );
        assert_eq!(d.village("新塘村", None, ""), Ok("430426105201".into()));
        // Two 黄龙村: the township decides.
        let err = d.village("黄龙村", None, "430426").unwrap_err();
        assert!(
            err.contains("有2个名为“黄龙村”") && err.contains("白鹤铺镇"),
            "{err}"
        );
        assert_eq!(
            d.village("黄龙村", Some("430426104000"), "430426"),
            Ok("430426104201".into())
        );
        assert_eq!(d.township("白鹤铺"), Ok("430426104000".into()));
    }

    #[test]
    fn unknown_out_of_scope_and_wrong_level_are_told_apart() {
        let d = county();
        assert_eq!(
            d.village("石门村", None, "430426"),
            Err("区划表中找不到名为“石门村”的村（社区），或它不在您的管辖范围内".into())
        );
        assert_eq!(
            d.village("430426105201", None, "430426104"),
            Err("430426105201不在您的管辖范围（430426104）内".into())
        );
        assert_eq!(
            d.village("新塘村", None, "430426104"),
            Err("430426105201不在您的管辖范围（430426104）内".into())
        );
        assert_eq!(
            d.village("430426104299", None, "430426"),
            Err("村代码430426104299不在区划表中，请先导入区划".into())
        );
        assert_eq!(
            d.village("430426104000", None, "430426"),
            Err("430426104000是乡级区划代码，不是村（社区）".into())
        );
        assert!(
            Directory::default()
                .village("黄龙村", None, "")
                .unwrap_err()
                .contains("region 参数")
        );
    }

    #[test]
    fn cadre_areas() {
        let d = county();
        assert_eq!(d.area("白鹤铺镇", "430426"), Ok("430426104".into()));
        assert_eq!(d.area("肖家村", "430426"), Ok("430426104202".into()));
        assert_eq!(d.area("430426", "430426"), Ok("430426".into()));
        assert_eq!(d.area("430426105", "430426"), Ok("430426105".into()));
        assert!(
            d.area("430426105", "430426104")
                .unwrap_err()
                .contains("管辖范围")
        );
        assert!(
            d.area("430000000000", "")
                .unwrap_err()
                .contains("至少是一个县")
        );
    }

    #[test]
    fn areas_cover_each_other() {
        let codes = ["430426104201", "430426105201", "430521100201", "abc"];
        assert_eq!(
            areas_to_load("430426104", codes.into_iter(), ""),
            vec!["430426".to_owned(), "430521".to_owned()]
        );
        assert_eq!(
            areas_to_load("430426104", ["430426104201"].into_iter(), "430426104"),
            vec!["430426".to_owned()]
        );
        assert!(areas_to_load("", codes.into_iter(), "431").is_empty());
    }
}
