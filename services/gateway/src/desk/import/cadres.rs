//! Cadres (干部): rows to RegisterCadreRequest, refusing people already in
//! the register (same name and phone) so importing a list twice does not
//! register everyone twice; then RegisterCadre calls, several at a time.
use std::collections::{HashMap, HashSet};

use futures::{StreamExt, stream};
use uuid::Uuid;
use zoufang_core::auth::roles;
use zoufang_proto::registry::v1::{CadreUnit, ListCadresRequest, RegisterCadreRequest};
use zoufang_tabular::{Mapping, Row};
use zoufang_types::mask_phone;

use super::{
    Cells, Parsed, RowError, Run, Upstream, check, directory::Directory, header::CADRE_FIELDS,
};

/// RegisterCadre calls in flight at once.
pub const CONCURRENCY: usize = 16;

/// A cadre as the register shows it: name and masked phone (or, without a
/// phone, name and region).
fn identity(name: &str, phone: Option<&str>, region: &str) -> (String, String) {
    match phone.filter(|p| !p.is_empty()) {
        Some(p) if p.contains('*') => (name.to_owned(), p.to_owned()),
        Some(p) => (name.to_owned(), mask_phone(p)),
        None => (name.to_owned(), format!("@{region}")),
    }
}

/// Cadres already registered in the area, by identity.
pub async fn existing(
    up: &Upstream,
    area: &str,
    scope: &str,
) -> Result<HashSet<(String, String)>, String> {
    let prefix = if area.starts_with(scope) { area } else { scope };
    let prefix: String = prefix.chars().take(6).collect();
    let cadres = up
        .retrying(|mut c| {
            let region_code = prefix.clone();
            async move { c.list_cadres(ListCadresRequest { region_code }).await }
        })
        .await?
        .cadres;
    Ok(cadres
        .iter()
        .map(|c| identity(&c.name, Some(&c.phone), &c.region_code))
        .collect())
}

/// The unit types people write.
pub fn unit(value: &str) -> Result<CadreUnit, String> {
    let v: String = check::halfwidth(value)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Ok(match v.as_str() {
        "乡镇机关"
        | "乡镇"
        | "镇机关"
        | "乡机关"
        | "机关"
        | "乡镇干部"
        | "街道"
        | "乡镇(街道)机关"
        | "乡镇街道机关"
        | "街道机关"
        | "township_office" => CadreUnit::TownshipOffice,
        "村两委" | "村委" | "村委会" | "村干部" | "村" | "社区" | "居委会" | "村(社区)两委"
        | "村(社区)" | "village_committee" => CadreUnit::VillageCommittee,
        "县直部门" | "县直单位" | "县直" | "部门" | "县直机关" | "县级部门"
        | "county_department" => CadreUnit::CountyDepartment,
        "" => return Err("不能为空".into()),
        _ => {
            return Err(format!(
                "“{v}”不是单位类型：应为 乡镇机关、村两委 或 县直部门"
            ));
        }
    })
}

/// The roles people write (走访干部, 乡镇管理员 …); none means 走访干部.
/// Only a county admin grants county-wide roles.
pub fn roles_of(value: &str, caller_is_county_admin: bool) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for r in value
        .split(|c: char| matches!(c, '、' | ',' | '，' | ';' | '；' | '/') || c.is_whitespace())
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        let role = match r {
            "走访干部" | "干部" | "cadre" => roles::CADRE,
            "乡镇管理员" | "乡镇管理" | "township_admin" => roles::TOWNSHIP_ADMIN,
            "督查员" | "督查" | "督查组" | "supervisor" => roles::SUPERVISOR,
            "部门" | "部门人员" | "department" => roles::DEPARTMENT,
            "县级管理员" | "县管理员" | "county_admin" => roles::COUNTY_ADMIN,
            "信访" | "信访局" | "petition_bureau" => roles::PETITION_BUREAU,
            other => {
                return Err(format!(
                    "“{other}”不是角色：应为 走访干部、乡镇管理员、督查员、部门、县级管理员 或 信访"
                ));
            }
        };
        if !caller_is_county_admin && matches!(role, roles::COUNTY_ADMIN | roles::PETITION_BUREAU) {
            return Err(format!("只有县级管理员能授予“{r}”角色"));
        }
        if !out.iter().any(|o| o == role) {
            out.push(role.to_owned());
        }
    }
    if out.is_empty() {
        out.push(roles::CADRE.to_owned());
    }
    Ok(out)
}

/// Checks every row; good rows as requests (without ids), bad ones as errors.
pub fn parse(
    rows: &[Row],
    m: &Mapping,
    dir: &Directory,
    scope: &str,
    county_admin: bool,
    existing: &HashSet<(String, String)>,
) -> Parsed<RegisterCadreRequest> {
    let mut out = Parsed::default();
    let mut seen: HashMap<(String, String), u32> = HashMap::new();
    for row in rows {
        let mut c = Cells::new(row, m, CADRE_FIELDS);
        let name = c.check("name", |cell| check::required_text(cell, 50));
        let phone = c.check("phone", check::mobile);
        let unit = c.check("unit", |cell| {
            unit(cell.map(|c| c.text.as_str()).unwrap_or(""))
        });
        let position = c.check("position", |cell| check::required_text(cell, 50));
        let area = c.text("region");
        let region = c.check("region", |_| dir.area(&area, scope));
        let roles = c.check("roles", |cell| {
            roles_of(cell.map(|c| c.text.as_str()).unwrap_or(""), county_admin)
        });
        if let (Some(name), Some(phone), Some(region)) = (&name, &phone, &region) {
            let who = identity(name, phone.as_deref(), region);
            if existing.contains(&who) {
                c.fail("name", "该干部已登记（姓名和手机号与已登记的干部相同）");
            } else if let Some(first) = seen.get(&who) {
                c.fail("name", format!("与第{first}行重复（姓名和手机号相同）"));
            } else {
                seen.insert(who, row.number);
            }
        }
        let errors = c.into_errors();
        match (name, phone, unit, position, region, roles) {
            (
                Some(name),
                Some(phone),
                Some(unit),
                Some(position),
                Some(region_code),
                Some(roles),
            ) if errors.is_empty() => {
                out.good.push((
                    row.number,
                    RegisterCadreRequest {
                        cadre_id: String::new(),
                        name,
                        phone: phone.unwrap_or_default(),
                        unit: unit as i32,
                        position,
                        region_code,
                        roles,
                    },
                ));
            }
            _ => out.errors.extend(errors),
        }
    }
    out
}

fn column_of(m: &Mapping, field: &str) -> String {
    let key = match field {
        "region_code" => "region",
        f if f.starts_with("roles") => "roles",
        f => f,
    };
    m.header(CADRE_FIELDS, key).to_owned()
}

/// Registers the good rows, several at a time. A row the registry refuses
/// is reported; the registry being unreachable (after retries) ends the job.
pub async fn write(
    run: &mut Run,
    m: &Mapping,
    good: Vec<(u32, RegisterCadreRequest)>,
) -> Result<(), String> {
    let up = run.up.clone();
    let mut calls = stream::iter(good.into_iter().map(|(row, mut req)| {
        req.cadre_id = Uuid::now_v7().to_string();
        (row, req)
    }))
    .map(|(row, req)| {
        let up = up.clone();
        async move {
            let res = up
                .retrying_status(|mut c| {
                    let req = req.clone();
                    async move { c.register_cadre(req).await }
                })
                .await;
            (row, res)
        }
    })
    .buffer_unordered(CONCURRENCY);
    while let Some((row, res)) = calls.next().await {
        match res {
            Ok(_) => run.batch_done(1, 1, vec![]).await?,
            Err(s)
                if matches!(
                    s.code(),
                    tonic::Code::InvalidArgument
                        | tonic::Code::PermissionDenied
                        | tonic::Code::AlreadyExists
                ) =>
            {
                let (field, reason) = super::first_violation(&s);
                let error = RowError {
                    row,
                    column: column_of(m, &field),
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
            &[r("430426104000", "白鹤铺镇", "430426000000")],
            &[r("430426104201", "黄龙村", "430426104000")],
        );
        d
    }

    #[test]
    fn cadre_rows_with_units_roles_areas_and_duplicates() {
        let headers: Vec<String> = ["姓名", "手机号", "单位", "职务", "工作区域", "角色"]
            .map(String::from)
            .into();
        let m = map_header(CADRE_FIELDS, &headers);
        let existing: HashSet<_> = [identity("李四", Some("139****0002"), "")].into();
        let rows = [
            row(
                2,
                &[
                    "周飞好",
                    "13807340001",
                    "乡镇机关",
                    "工作队员",
                    "白鹤铺镇",
                    "",
                ],
            ),
            row(
                3,
                &["王五", "", "村两委", "村干部", "黄龙村", "走访干部、督查员"],
            ),
            row(
                4,
                &[
                    "李四",
                    "13900000002",
                    "乡镇机关",
                    "班子成员",
                    "430426104",
                    "",
                ],
            ),
            row(
                5,
                &[
                    "周飞好",
                    "138 0734 0001",
                    "乡镇机关",
                    "工作队员",
                    "白鹤铺镇",
                    "",
                ],
            ),
            row(6, &["赵六", "", "合作社", "", "430426105", "县级管理员"]),
        ];
        let p = parse(&rows, &m, &dir(), "430426104", false, &existing);
        let good: Vec<(u32, &str, &str, i32)> = p
            .good
            .iter()
            .map(|(n, r)| (*n, r.name.as_str(), r.region_code.as_str(), r.unit))
            .collect();
        assert_eq!(
            good,
            vec![
                (2, "周飞好", "430426104", CadreUnit::TownshipOffice as i32),
                (
                    3,
                    "王五",
                    "430426104201",
                    CadreUnit::VillageCommittee as i32
                ),
            ]
        );
        assert_eq!(p.good[1].1.roles, vec!["cadre", "supervisor"]);
        assert_eq!(p.good[0].1.roles, vec!["cadre"]);
        let errors: Vec<(u32, &str, &str)> = p
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.reason.as_str()))
            .collect();
        assert_eq!(
            errors,
            vec![
                (4, "姓名", "该干部已登记（姓名和手机号与已登记的干部相同）"),
                (5, "姓名", "与第2行重复（姓名和手机号相同）"),
                (
                    6,
                    "单位",
                    "“合作社”不是单位类型：应为 乡镇机关、村两委 或 县直部门"
                ),
                (6, "职务", "不能为空"),
                (6, "工作区域", "430426105不在您的管辖范围（430426104）内"),
                (6, "角色", "只有县级管理员能授予“县级管理员”角色"),
            ]
        );
    }
}
