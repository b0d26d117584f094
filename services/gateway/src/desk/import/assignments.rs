//! 包保 assignments (包保关系) from a sheet: each row names a cadre (by
//! 干部编号, or by 干部姓名 with 干部手机号 to tell namesakes apart) and
//! what they answer for: a household (户编号), a village (村, a name or
//! code, 所属乡镇 when two villages share a name) or a work zone (工作片,
//! a name or id); 包保类型 (联系户 / 联系村 / 包片) says which when a row
//! fills more than one. The campaign is the upload's `?campaign_id=`.
//!
//! Idempotent: each row's assignment_id is derived from (campaign, cadre,
//! target, target id), so uploading the same sheet again creates nothing
//! new (the registry answers the stored assignment), and a row the
//! registry already holds under another id (made one call at a time) is
//! counted as there, not as an error.
use std::collections::{HashMap, HashSet};

use futures::{StreamExt, stream};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zoufang_proto::registry::v1::{
    AssignmentTarget, Cadre, CreateAssignmentRequest, GetHouseholdRequest, ListCadresRequest,
    ListWorkZonesRequest, WorkZone,
};
use zoufang_tabular::{Mapping, Row};
use zoufang_types::mask_phone;

use super::{
    Cells, Parsed, RowError, Run, Upstream, check, directory::Directory, header::ASSIGNMENT_FIELDS,
};

/// CreateAssignment calls in flight at once.
pub const CONCURRENCY: usize = 16;

/// The assignment id of (campaign, cadre, target, target id): the same
/// four always give the same id, so a re-upload repeats, not adds.
pub fn assignment_id(
    campaign_id: &str,
    cadre_id: &str,
    target: AssignmentTarget,
    target_id: &str,
) -> Uuid {
    let digest = Sha256::digest(
        format!(
            "zoufang.assignment\n{campaign_id}\n{cadre_id}\n{}\n{target_id}",
            target as i32
        )
        .as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The 包保类型 people write.
pub fn target_of(value: &str) -> Result<Option<AssignmentTarget>, String> {
    let v: String = check::halfwidth(value)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Ok(Some(match v.as_str() {
        "" => return Ok(None),
        "联系户" | "包户" | "帮扶户" | "户" | "农户" | "household" => {
            AssignmentTarget::Household
        }
        "联系村" | "包村" | "驻村" | "村" | "village" => AssignmentTarget::Village,
        "包片" | "工作片" | "片" | "片区" | "zone" => AssignmentTarget::Zone,
        _ => {
            return Err(format!("“{v}”不是包保类型：应为 联系户、联系村 或 包片"));
        }
    }))
}

/// The cadres an import may name: by id, and by name with their masked phones.
#[derive(Debug, Default)]
pub struct Cadres {
    ids: HashSet<String>,
    by_name: HashMap<String, Vec<(String, String)>>,
}

impl Cadres {
    pub fn new(cadres: &[Cadre]) -> Self {
        let mut out = Self::default();
        for c in cadres {
            out.ids.insert(c.cadre_id.clone());
            out.by_name
                .entry(c.name.trim().to_owned())
                .or_default()
                .push((c.cadre_id.clone(), c.phone.clone()));
        }
        out
    }

    /// The cadre a row names, or why not (and in which column).
    fn resolve(
        &self,
        id: &str,
        name: &str,
        phone: Option<&str>,
    ) -> Result<String, (&'static str, String)> {
        if !id.is_empty() {
            let canonical = Uuid::parse_str(id)
                .map(|u| u.hyphenated().to_string())
                .map_err(|_| ("cadre_id", format!("“{id}”不是有效的干部编号（UUID）")))?;
            return if self.ids.contains(&canonical) {
                Ok(canonical)
            } else {
                Err((
                    "cadre_id",
                    format!("找不到编号为{canonical}的干部，或他不在您的管辖范围内"),
                ))
            };
        }
        if name.is_empty() {
            return Err(("cadre_name", "请填写干部编号或干部姓名".into()));
        }
        let found = self
            .by_name
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let matching: Vec<&(String, String)> = match phone {
            Some(p) => {
                let masked = mask_phone(p);
                found.iter().filter(|(_, m)| *m == masked).collect()
            }
            None => found.iter().collect(),
        };
        match matching[..] {
            [(id, _)] => Ok(id.clone()),
            [] if phone.is_some() && !found.is_empty() => {
                Err(("cadre_phone", format!("干部“{name}”的手机号与登记的不符")))
            }
            [] => Err((
                "cadre_name",
                format!("找不到名为“{name}”的干部，或他不在您的管辖范围内；请先导入干部"),
            )),
            _ => Err((
                "cadre_name",
                format!(
                    "有{}名干部叫“{name}”：请填写干部手机号或干部编号",
                    matching.len()
                ),
            )),
        }
    }
}

/// Work zones by id and name (with their townships).
#[derive(Debug, Default)]
pub struct Zones {
    zones: Vec<WorkZone>,
}

impl Zones {
    pub fn new(zones: Vec<WorkZone>) -> Self {
        Self { zones }
    }

    fn resolve(&self, value: &str, township: Option<&str>) -> Result<&WorkZone, String> {
        if let Ok(id) = Uuid::parse_str(value) {
            let id = id.hyphenated().to_string();
            return self
                .zones
                .iter()
                .find(|z| z.zone_id == id)
                .ok_or_else(|| format!("找不到编号为{id}的工作片，或它不在您的管辖范围内"));
        }
        let found: Vec<&WorkZone> = self
            .zones
            .iter()
            .filter(|z| z.name.trim() == value && township.is_none_or(|t| z.township_code == t))
            .collect();
        match found[..] {
            [one] => Ok(one),
            [] => Err(format!(
                "找不到名为“{value}”的工作片，或它不在您的管辖范围内"
            )),
            _ => Err(format!(
                "有{}个名为“{value}”的工作片：请填写所属乡镇",
                found.len()
            )),
        }
    }
}

/// What a row's target was checked against besides the directory: the
/// campaign's region, and each named household's village (from the registry).
pub struct Context<'a> {
    pub dir: &'a Directory,
    pub scope: &'a str,
    pub campaign_region: &'a str,
    pub cadres: &'a Cadres,
    pub zones: &'a Zones,
    /// Household id → its village, for the households the file names
    /// that the registry shows the caller.
    pub households: &'a HashMap<String, String>,
}

/// The household ids a file names (to look up before checking).
pub fn household_ids(rows: &[Row], m: &Mapping) -> Vec<String> {
    let col = m.column("household_id");
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|r| col.and_then(|c| r.cell(c)))
        .filter_map(|c| Uuid::parse_str(c.text.trim()).ok())
        .map(|u| u.hyphenated().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Why the header cannot serve, if it cannot: it must name the cadre and a target.
pub fn header_problem(m: &Mapping) -> Option<String> {
    if m.column("cadre_id").is_none() && m.column("cadre_name").is_none() {
        return Some("表头缺少“干部编号”或“干部姓名”列：每行须写明包保干部".into());
    }
    if ["household_id", "village", "zone"]
        .iter()
        .all(|k| m.column(k).is_none())
    {
        return Some("表头缺少“户编号”“村”或“工作片”列：每行须写明包保对象".into());
    }
    None
}

/// Checks every row; the good ones as requests (campaign and assignment ids
/// filled), the bad ones as errors.
pub fn parse(
    rows: &[Row],
    m: &Mapping,
    campaign_id: &str,
    cx: &Context<'_>,
) -> Parsed<CreateAssignmentRequest> {
    let mut out = Parsed::default();
    for row in rows {
        let mut c = Cells::new(row, m, ASSIGNMENT_FIELDS);
        let phone = c.check("cadre_phone", check::mobile).flatten();
        let cadre =
            match cx
                .cadres
                .resolve(&c.text("cadre_id"), &c.text("cadre_name"), phone.as_deref())
            {
                Ok(id) => Some(id),
                Err((key, reason)) => {
                    c.fail(key, reason);
                    None
                }
            };
        let explicit = c
            .check("target", |cell| {
                target_of(cell.map(|c| c.text.as_str()).unwrap_or(""))
            })
            .flatten();
        let (household, village, zone) =
            (c.text("household_id"), c.text("village"), c.text("zone"));
        let target = explicit.or(if !household.is_empty() {
            Some(AssignmentTarget::Household)
        } else if !zone.is_empty() {
            Some(AssignmentTarget::Zone)
        } else if !village.is_empty() {
            Some(AssignmentTarget::Village)
        } else {
            None
        });
        let township = match c.text("township") {
            t if t.is_empty() => Some(None),
            t => c.check("township", |_| cx.dir.township(&t)).map(Some),
        };
        let resolved: Option<(String, String)> = match (target, township) {
            (_, None) => None,
            (None, _) => {
                if c.text("target").is_empty() {
                    c.fail("household_id", "请填写包保对象：户编号、村或工作片");
                }
                None
            }
            (Some(AssignmentTarget::Household), Some(_)) => c.check("household_id", |_| {
                if household.is_empty() {
                    return Err("包保类型为联系户时，户编号不能为空".into());
                }
                let id = Uuid::parse_str(&household)
                    .map_err(|_| format!("“{household}”不是有效的户编号（UUID）"))?
                    .hyphenated()
                    .to_string();
                let village = cx
                    .households
                    .get(&id)
                    .ok_or_else(|| format!("找不到编号为{id}的农户，或它不在您的管辖范围内"))?;
                Ok((id, village.clone()))
            }),
            (Some(AssignmentTarget::Village), Some(t)) => c.check("village", |_| {
                if village.is_empty() {
                    return Err("包保类型为联系村时，村不能为空".into());
                }
                cx.dir
                    .village(&village, t.as_deref(), cx.scope)
                    .map(|v| (v.clone(), v))
            }),
            (Some(AssignmentTarget::Zone), Some(t)) => c.check("zone", |_| {
                if zone.is_empty() {
                    return Err("包保类型为包片时，工作片不能为空".into());
                }
                cx.zones
                    .resolve(&zone, t.as_deref())
                    .map(|z| (z.zone_id.clone(), z.township_code.clone()))
            }),
            (Some(AssignmentTarget::Unspecified), Some(_)) => None,
        };
        if let (Some((_, region)), Some(t)) = (&resolved, target) {
            let key = match t {
                AssignmentTarget::Household => "household_id",
                AssignmentTarget::Zone => "zone",
                _ => "village",
            };
            if !region.starts_with(cx.campaign_region) {
                c.fail(
                    key,
                    format!("{region}不在本次走访活动的范围（{}）内", cx.campaign_region),
                );
            }
        }
        let errors = c.into_errors();
        match (cadre, target, resolved) {
            (Some(cadre_id), Some(target), Some((target_id, _))) if errors.is_empty() => {
                out.good.push((
                    row.number,
                    CreateAssignmentRequest {
                        assignment_id: assignment_id(campaign_id, &cadre_id, target, &target_id)
                            .to_string(),
                        campaign_id: campaign_id.to_owned(),
                        cadre_id,
                        target: target as i32,
                        target_id,
                    },
                ));
            }
            _ => out.errors.extend(errors),
        }
    }
    out
}

/// The cadres the caller may see in `area`'s county (the registry narrows
/// the county to the caller's scope, so a county admin may name the
/// county's own cadres, sent to a township by a department), and the work
/// zones of the area's townships.
pub async fn load(up: &Upstream, area: &str, dir: &Directory) -> Result<(Cadres, Zones), String> {
    let region_code: String = area.chars().take(6).collect();
    let cadres = up
        .retrying(|mut c| {
            let region_code = region_code.clone();
            async move { c.list_cadres(ListCadresRequest { region_code }).await }
        })
        .await?
        .cadres;
    let mut zones = Vec::new();
    for township_code in dir.townships_in(area) {
        let found = up
            .retrying(|mut c| {
                let township_code = township_code.clone();
                async move {
                    c.list_work_zones(ListWorkZonesRequest { township_code })
                        .await
                }
            })
            .await?;
        zones.extend(found.zones);
    }
    Ok((Cadres::new(&cadres), Zones::new(zones)))
}

/// The villages of the households named (those the caller may see).
pub async fn household_villages(
    up: &Upstream,
    ids: Vec<String>,
) -> Result<HashMap<String, String>, String> {
    let mut found = HashMap::new();
    let mut calls = stream::iter(ids)
        .map(|household_id| {
            let up = up.clone();
            async move {
                let res = up
                    .retrying_status(|mut c| {
                        let household_id = household_id.clone();
                        async move {
                            c.get_household(GetHouseholdRequest {
                                household_id,
                                reveal: false,
                                purpose: String::new(),
                                reveal_fields: vec![],
                            })
                            .await
                        }
                    })
                    .await;
                (household_id, res)
            }
        })
        .buffer_unordered(CONCURRENCY);
    while let Some((id, res)) = calls.next().await {
        match res {
            Ok(r) => {
                if let Some(h) = r.household {
                    found.insert(id, h.village_code);
                }
            }
            Err(s)
                if matches!(
                    s.code(),
                    tonic::Code::NotFound
                        | tonic::Code::PermissionDenied
                        | tonic::Code::InvalidArgument
                ) => {}
            Err(s) => return Err(super::status_reason(&s)),
        }
    }
    Ok(found)
}

fn column_of(m: &Mapping, req: &CreateAssignmentRequest, field: &str) -> String {
    let key = match field {
        "cadre_id" => {
            if m.column("cadre_id").is_some() {
                "cadre_id"
            } else {
                "cadre_name"
            }
        }
        _ => match AssignmentTarget::try_from(req.target) {
            Ok(AssignmentTarget::Household) => "household_id",
            Ok(AssignmentTarget::Zone) => "zone",
            _ => "village",
        },
    };
    m.header(ASSIGNMENT_FIELDS, key).to_owned()
}

/// Creates the assignments, several at a time. One the registry holds
/// already (this id, or the same cadre and target under another) counts as
/// imported; another refusal is reported for its row; the registry being
/// unreachable (after retries) ends the job.
pub async fn write(
    run: &mut Run,
    m: &Mapping,
    good: Vec<(u32, CreateAssignmentRequest)>,
) -> Result<(), String> {
    let up = run.up.clone();
    let mut calls = stream::iter(good)
        .map(|(row, req)| {
            let up = up.clone();
            async move {
                let res = up
                    .retrying_status(|mut c| {
                        let req = req.clone();
                        async move { c.create_assignment(req).await }
                    })
                    .await;
                (row, req, res)
            }
        })
        .buffer_unordered(CONCURRENCY);
    while let Some((row, req, res)) = calls.next().await {
        match res {
            Ok(_) => run.batch_done(1, 1, vec![]).await?,
            Err(s) if s.code() == tonic::Code::AlreadyExists => {
                run.batch_done(1, 1, vec![]).await?
            }
            Err(s)
                if matches!(
                    s.code(),
                    tonic::Code::InvalidArgument
                        | tonic::Code::PermissionDenied
                        | tonic::Code::NotFound
                ) =>
            {
                let (field, reason) = super::first_violation(&s);
                let error = RowError {
                    row,
                    column: column_of(m, &req, &field),
                    reason: format!("登记服务拒绝：{reason}"),
                };
                run.batch_done(1, 0, vec![error]).await?;
            }
            Err(s) => {
                return Err(format!(
                    "{}；已写入{}行",
                    super::status_reason(&s),
                    run.counts.imported
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_proto::registry::v1::Region;
    use zoufang_tabular::{Cell, map_header};

    fn row(number: u32, cells: &[&str]) -> Row {
        Row {
            number,
            cells: cells.iter().map(|c| Cell::text(c)).collect(),
        }
    }

    fn dir() -> Directory {
        let r = |code: &str, name: &str, parent: &str| Region {
            code: code.into(),
            name: name.into(),
            level: 0,
            parent_code: parent.into(),
            kind: String::new(),
        };
        let mut d = Directory::default();
        d.add(
            "430426",
            &[
                r("430426104000", "白鹤铺镇", "430426000000"),
                r("430426105000", "太和堂镇", "430426000000"),
            ],
            &[
                r("430426104201", "黄龙村", "430426104000"),
                r("430426104202", "肖家村", "430426104000"),
                r("430426105201", "新塘村", "430426105000"),
            ],
        );
        d
    }

    fn cadre(id: &str, name: &str, phone: &str) -> Cadre {
        Cadre {
            cadre_id: id.into(),
            name: name.into(),
            phone: phone.into(),
            ..Cadre::default()
        }
    }

    const A: &str = "00000000-0000-7000-8000-00000000000a";
    const B: &str = "00000000-0000-7000-8000-00000000000b";
    const C: &str = "00000000-0000-7000-8000-00000000000c";
    const H: &str = "00000000-0000-7000-8000-0000000000f1";
    const Z: &str = "00000000-0000-7000-8000-0000000000e1";
    const CAMPAIGN: &str = "00000000-0000-7000-8000-000000000c01";

    #[test]
    fn ids_are_derived_and_types_read() {
        let one = assignment_id(CAMPAIGN, A, AssignmentTarget::Village, "430426104201");
        assert_eq!(
            one,
            assignment_id(CAMPAIGN, A, AssignmentTarget::Village, "430426104201")
        );
        assert_ne!(
            one,
            assignment_id(CAMPAIGN, B, AssignmentTarget::Village, "430426104201")
        );
        assert_ne!(
            one,
            assignment_id(CAMPAIGN, A, AssignmentTarget::Zone, "430426104201")
        );
        assert_eq!(target_of("联系户"), Ok(Some(AssignmentTarget::Household)));
        assert_eq!(target_of(" 包村 "), Ok(Some(AssignmentTarget::Village)));
        assert_eq!(target_of("包片"), Ok(Some(AssignmentTarget::Zone)));
        assert_eq!(target_of(""), Ok(None));
        assert!(target_of("包乡").unwrap_err().contains("联系户"));
    }

    #[test]
    fn rows_resolve_cadres_and_targets_or_say_why_not() {
        let headers: Vec<String> = [
            "干部编号",
            "干部姓名",
            "干部手机号",
            "包保类型",
            "户编号",
            "村",
            "工作片",
        ]
        .map(String::from)
        .into();
        let m = map_header(ASSIGNMENT_FIELDS, &headers);
        assert!(header_problem(&m).is_none());
        let cadres = Cadres::new(&[
            cadre(A, "周飞好", "138****0001"),
            cadre(B, "李四", "139****0002"),
            cadre(C, "李四", "139****0003"),
        ]);
        let zones = Zones::new(vec![WorkZone {
            zone_id: Z.into(),
            township_code: "430426104000".into(),
            name: "第一工作片".into(),
            village_codes: vec![],
        }]);
        let households: HashMap<String, String> =
            [(H.to_owned(), "430426104202".to_owned())].into();
        let d = dir();
        let cx = Context {
            dir: &d,
            scope: "430426104",
            campaign_region: "430426104",
            cadres: &cadres,
            zones: &zones,
            households: &households,
        };
        let rows = [
            row(2, &["", "周飞好", "", "", "", "黄龙村", ""]),
            row(3, &[A, "", "", "", H, "肖家村", ""]),
            row(
                4,
                &["", "李四", "13900000003", "包片", "", "", "第一工作片"],
            ),
            row(5, &["", "李四", "", "", "", "黄龙村", ""]),
            row(6, &["", "王五", "", "", "", "黄龙村", ""]),
            row(7, &["", "周飞好", "", "联系户", "", "黄龙村", ""]),
            row(8, &["", "周飞好", "", "", "", "新塘村", ""]),
            row(9, &["", "周飞好", "", "", "", "", ""]),
            row(
                10,
                &[
                    "",
                    "周飞好",
                    "",
                    "",
                    "00000000-0000-7000-8000-000000000999",
                    "",
                    "",
                ],
            ),
        ];
        let p = parse(&rows, &m, CAMPAIGN, &cx);
        let good: Vec<(u32, &str, i32, &str)> = p
            .good
            .iter()
            .map(|(n, r)| (*n, r.cadre_id.as_str(), r.target, r.target_id.as_str()))
            .collect();
        assert_eq!(
            good,
            vec![
                (2, A, AssignmentTarget::Village as i32, "430426104201"),
                (3, A, AssignmentTarget::Household as i32, H),
                (4, C, AssignmentTarget::Zone as i32, Z),
            ]
        );
        assert_eq!(
            p.good[0].1.assignment_id,
            assignment_id(CAMPAIGN, A, AssignmentTarget::Village, "430426104201").to_string()
        );
        assert_eq!(p.good[0].1.campaign_id, CAMPAIGN);
        let errors: Vec<(u32, &str, &str)> = p
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.reason.as_str()))
            .collect();
        assert_eq!(
            errors,
            vec![
                (
                    5,
                    "干部姓名",
                    "有2名干部叫“李四”：请填写干部手机号或干部编号"
                ),
                (
                    6,
                    "干部姓名",
                    "找不到名为“王五”的干部，或他不在您的管辖范围内；请先导入干部"
                ),
                (7, "户编号", "包保类型为联系户时，户编号不能为空"),
                (8, "村", "430426105201不在您的管辖范围（430426104）内"),
                (9, "户编号", "请填写包保对象：户编号、村或工作片"),
                (
                    10,
                    "户编号",
                    "找不到编号为00000000-0000-7000-8000-000000000999的农户，或它不在您的管辖范围内"
                ),
            ]
        );
        let only_names = map_header(ASSIGNMENT_FIELDS, &["干部姓名".to_owned()]);
        assert!(header_problem(&only_names).unwrap().contains("户编号"));
    }
}
