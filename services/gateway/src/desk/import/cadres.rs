//! Cadres (干部): rows to RegisterCadreRequest, refusing people already in
//! the register (same name and phone) so importing a list twice does not
//! register everyone twice; then RegisterCadre calls, several at a time.
//!
//! Optional columns: 干部编号 (the cadre's id; a row that gives it is
//! idempotent by it, so a sheet with ids can be uploaded again), 所属工作队
//! and 是否队长 (the work team the cadre joins, `teams`), and 登录账号: a
//! row with a 登录账号 is onboarded whole, as `POST /v1/people/cadres`
//! does — the cadre, notify's recipient and a sign-in account bound to the
//! cadre with a one-time initial password, which the job's creator fetches
//! once from `POST /v1/import/{job_id}/credentials`.
use std::collections::HashMap;

use futures::{StreamExt, stream};

use crate::door::check_username;
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

/// Cadres already registered in the area: identity → cadre id.
pub async fn existing(
    up: &Upstream,
    area: &str,
    scope: &str,
) -> Result<HashMap<(String, String), String>, String> {
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
        .map(|c| {
            (
                identity(&c.name, Some(&c.phone), &c.region_code),
                c.cadre_id.clone(),
            )
        })
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

/// One good row: the registration (its cadre_id empty unless the row gave
/// one), and what else the row asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct CadreRow {
    pub req: RegisterCadreRequest,
    /// The work team to join (所属工作队), by name.
    pub team: Option<String>,
    /// Marked as the team's leader (是否队长).
    pub leader: bool,
    /// The sign-in account to make (登录账号).
    pub username: Option<String>,
}

/// The yes/no people write in a 是否队长 column.
pub fn yes_no(value: &str) -> Result<bool, String> {
    let v: String = check::halfwidth(value)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    match v.to_lowercase().as_str() {
        "" | "否" | "不是" | "×" | "x" | "n" | "no" | "0" | "false" => Ok(false),
        "是" | "√" | "✓" | "✔" | "y" | "yes" | "1" | "true" | "队长" => Ok(true),
        _ => Err(format!("“{v}”应为“是”或“否”（或留空）")),
    }
}

/// Checks every row; good rows as [`CadreRow`]s, bad ones as errors.
pub fn parse(
    rows: &[Row],
    m: &Mapping,
    dir: &Directory,
    scope: &str,
    county_admin: bool,
    existing: &HashMap<(String, String), String>,
) -> Parsed<CadreRow> {
    let mut out = Parsed::default();
    let mut seen: HashMap<(String, String), u32> = HashMap::new();
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut usernames: HashMap<String, u32> = HashMap::new();
    // (team key, row) of each row marked 队长, to refuse two in one team.
    let mut leaders: HashMap<String, u32> = HashMap::new();
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
        let cadre_id = c.check("cadre_id", |cell| {
            let t = cell.map(|c| c.text.trim()).unwrap_or("");
            if t.is_empty() {
                return Ok(None);
            }
            let id = Uuid::parse_str(t)
                .map_err(|_| format!("“{t}”不是有效的干部编号（UUID）"))?
                .hyphenated()
                .to_string();
            match ids.get(&id) {
                Some(first) => Err(format!("与第{first}行的干部编号重复")),
                None => {
                    ids.insert(id.clone(), row.number);
                    Ok(Some(id))
                }
            }
        });
        let team = c.check("team", |cell| {
            let t = check::optional_text(cell, 50)?;
            Ok::<_, String>((!t.is_empty()).then_some(t))
        });
        let leader = c.check("leader", |cell| {
            yes_no(cell.map(|c| c.text.as_str()).unwrap_or(""))
        });
        if leader == Some(true) && matches!(team, Some(None)) {
            c.fail("leader", "标为队长的干部须填写所属工作队");
        }
        let username = c.check("username", |cell| {
            let t = cell.map(|c| c.text.trim()).unwrap_or("");
            if t.is_empty() {
                return Ok(None);
            }
            let u = check_username("username", t).map_err(|e| {
                e.field_errors
                    .first()
                    .map(|f| f.reason.clone())
                    .unwrap_or(e.message)
            })?;
            match usernames.get(&u) {
                Some(first) => Err(format!("与第{first}行的登录账号重复")),
                None => {
                    usernames.insert(u.clone(), row.number);
                    Ok(Some(u))
                }
            }
        });
        // Notify gives county-wide roles the county's escalations: a row
        // onboarded whole (登录账号) with one must work at county level.
        if let (Some(Some(_)), Some(roles), Some(region)) = (&username, &roles, &region)
            && region.len() > 6
            && let Some(wide) = roles.iter().find(|r| {
                matches!(
                    r.as_str(),
                    roles::COUNTY_ADMIN | roles::DEPARTMENT | roles::PETITION_BUREAU
                )
            })
        {
            c.fail(
                "roles",
                format!("“{wide}”是县级角色：带登录账号的行，工作区域须为县"),
            );
        }
        if let (Some(Some(t)), Some(true), Some(region)) = (&team, leader, &region) {
            let key = format!("{}/{t}", &region[..region.len().min(9)]);
            match leaders.get(&key) {
                Some(first) => c.fail(
                    "leader",
                    format!("工作队“{t}”已在第{first}行标明队长，一个工作队只有一名队长"),
                ),
                None => {
                    leaders.insert(key, row.number);
                }
            }
        }
        if let (Some(name), Some(phone), Some(region)) = (&name, &phone, &region) {
            let who = identity(name, phone.as_deref(), region);
            let same_id = matches!((existing.get(&who), &cadre_id), (Some(stored), Some(Some(given))) if stored == given);
            if existing.contains_key(&who) && !same_id {
                c.fail("name", "该干部已登记（姓名和手机号与已登记的干部相同）");
            } else if let Some(first) = seen.get(&who) {
                c.fail("name", format!("与第{first}行重复（姓名和手机号相同）"));
            } else {
                seen.insert(who, row.number);
            }
        }
        let errors = c.into_errors();
        match (
            (name, phone, unit, position, region, roles),
            (cadre_id, team, leader, username),
        ) {
            (
                (
                    Some(name),
                    Some(phone),
                    Some(unit),
                    Some(position),
                    Some(region_code),
                    Some(roles),
                ),
                (Some(cadre_id), Some(team), Some(leader), Some(username)),
            ) if errors.is_empty() => {
                out.good.push((
                    row.number,
                    CadreRow {
                        req: RegisterCadreRequest {
                            cadre_id: cadre_id.unwrap_or_default(),
                            name,
                            phone: phone.unwrap_or_default(),
                            unit: unit as i32,
                            position,
                            region_code,
                            roles,
                        },
                        team,
                        leader,
                        username,
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
        "username" if m.column("username").is_some() => "username",
        "cadre_id" if m.column("cadre_id").is_some() => "cadre_id",
        "" | "cadre_id" | "username" | "body" => "name",
        f => f,
    };
    m.header(CADRE_FIELDS, key).to_owned()
}

/// A row registered: what the team phase needs.
#[derive(Debug, Clone)]
pub struct Registered {
    pub row: u32,
    pub cadre_id: String,
    pub region: String,
    pub team: Option<String>,
    pub leader: bool,
}

/// A row's outcome: registered (with the initial password when an account
/// was made with one), or refused (the error), or the job must stop.
enum Outcome {
    Done(Registered, Option<(String, String)>),
    Refused(RowError),
    Stop(String),
}

/// Registers one row: RegisterCadre, or with a 登录账号 the whole onboarding.
async fn one(up: &Upstream, m: &Mapping, row: u32, r: CadreRow) -> Outcome {
    let registered = |r: &CadreRow| Registered {
        row,
        cadre_id: r.req.cadre_id.clone(),
        region: r.req.region_code.clone(),
        team: r.team.clone(),
        leader: r.leader,
    };
    if let Some(username) = r.username.clone() {
        let o = crate::desk::people::check::Onboarding {
            cadre: r.req.clone(),
            username,
        };
        return match crate::desk::people::onboard(&up.state, &up.accounts, &up.caller, &o).await {
            Ok((_, p)) => Outcome::Done(
                registered(&r),
                p.initial_password.map(|pw| (p.username, pw)),
            ),
            Err(e) if e.status.is_client_error() => {
                let (field, reason) = e
                    .field_errors
                    .first()
                    .map(|f| (f.field.clone(), f.reason.clone()))
                    .unwrap_or_else(|| (String::new(), e.message.clone()));
                Outcome::Refused(RowError {
                    row,
                    column: column_of(m, &field),
                    reason: format!("录入被拒绝：{reason}"),
                })
            }
            Err(e) => Outcome::Stop(format!("录入干部时出错：{}", e.message)),
        };
    }
    let req = r.req.clone();
    match up
        .retrying_status(|mut c| {
            let req = req.clone();
            async move { c.register_cadre(req).await }
        })
        .await
    {
        Ok(_) => Outcome::Done(registered(&r), None),
        Err(s)
            if matches!(
                s.code(),
                tonic::Code::InvalidArgument
                    | tonic::Code::PermissionDenied
                    | tonic::Code::AlreadyExists
            ) =>
        {
            let (field, reason) = super::first_violation(&s);
            Outcome::Refused(RowError {
                row,
                column: column_of(m, &field),
                reason: format!("登记服务拒绝：{reason}"),
            })
        }
        Err(s) => Outcome::Stop(super::status_reason(&s)),
    }
}

/// Registers the good rows, several at a time (a row without 干部编号
/// gets a new id; one with a 登录账号 is onboarded whole). A row refused is
/// reported; a service unreachable (after retries) ends the job. The rows
/// registered, for the team phase.
pub async fn write(
    run: &mut Run,
    m: &Mapping,
    good: Vec<(u32, CadreRow)>,
) -> Result<Vec<Registered>, String> {
    let up = run.up.clone();
    let mut calls = stream::iter(good.into_iter().map(|(row, mut r)| {
        if r.req.cadre_id.is_empty() {
            r.req.cadre_id = Uuid::now_v7().to_string();
        }
        (row, r)
    }))
    .map(|(row, r)| {
        let up = up.clone();
        async move { one(&up, m, row, r).await }
    })
    .buffer_unordered(CONCURRENCY);
    let mut done = Vec::new();
    let mut stopped = None;
    while let Some(outcome) = calls.next().await {
        match outcome {
            Outcome::Done(reg, password) => {
                if let Some((username, password)) = password {
                    run.credentials
                        .push((reg.row, reg.cadre_id.clone(), username, password));
                }
                done.push(reg);
                run.batch_done(1, 1, vec![]).await?;
            }
            Outcome::Refused(error) => run.batch_done(1, 0, vec![error]).await?,
            Outcome::Stop(reason) => {
                stopped = Some(reason);
                break;
            }
        }
    }
    drop(calls);
    run.save_credentials().await?;
    if let Some(reason) = stopped {
        return Err(format!("{reason}；已写入{}行", run.counts.imported));
    }
    Ok(done)
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
        let existing: HashMap<_, _> = [(
            identity("李四", Some("139****0002"), ""),
            "0191c6a2-7b7e-7c3a-9d41-2f5e8a9b0c1d".to_owned(),
        )]
        .into();
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
            .map(|(n, r)| {
                (
                    *n,
                    r.req.name.as_str(),
                    r.req.region_code.as_str(),
                    r.req.unit,
                )
            })
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
        assert_eq!(p.good[1].1.req.roles, vec!["cadre", "supervisor"]);
        assert_eq!(p.good[0].1.req.roles, vec!["cadre"]);
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

    #[test]
    #[allow(clippy::type_complexity)]
    fn team_leader_id_and_account_columns() {
        let headers: Vec<String> = [
            "姓名",
            "手机号",
            "单位",
            "职务",
            "工作区域",
            "所属工作队",
            "是否队长",
            "干部编号",
            "登录账号",
        ]
        .map(String::from)
        .into();
        let m = map_header(CADRE_FIELDS, &headers);
        let known = "0191c6a2-7b7e-7c3a-9d41-2f5e8a9b0c1d";
        let existing: HashMap<_, _> =
            [(identity("李四", Some("139****0002"), ""), known.to_owned())].into();
        let rows = [
            row(
                2,
                &[
                    "周飞好",
                    "13807340001",
                    "乡镇机关",
                    "工作队长",
                    "白鹤铺镇",
                    "第一工作队",
                    "是",
                    "",
                    "zhoufh",
                ],
            ),
            // Registered before with this id: a retry, not a duplicate.
            row(
                3,
                &[
                    "李四",
                    "13900000002",
                    "乡镇机关",
                    "队员",
                    "白鹤铺镇",
                    "第一工作队",
                    "",
                    known,
                    "",
                ],
            ),
            row(
                4,
                &[
                    "王五",
                    "13900000004",
                    "乡镇机关",
                    "队员",
                    "白鹤铺镇",
                    "第一工作队",
                    "√",
                    "x",
                    "zhoufh",
                ],
            ),
            row(
                5,
                &[
                    "赵六",
                    "13900000005",
                    "乡镇机关",
                    "队员",
                    "白鹤铺镇",
                    "",
                    "是",
                    "",
                    "a b",
                ],
            ),
            row(
                6,
                &[
                    "钱七",
                    "13900000006",
                    "乡镇机关",
                    "队员",
                    "白鹤铺镇",
                    "",
                    "也许",
                    "",
                    "",
                ],
            ),
        ];
        let p = parse(&rows, &m, &dir(), "430426104", false, &existing);
        let good: Vec<(u32, Option<&str>, bool, Option<&str>, &str)> = p
            .good
            .iter()
            .map(|(n, r)| {
                (
                    *n,
                    r.team.as_deref(),
                    r.leader,
                    r.username.as_deref(),
                    r.req.cadre_id.as_str(),
                )
            })
            .collect();
        assert_eq!(
            good,
            vec![
                (2, Some("第一工作队"), true, Some("zhoufh"), ""),
                (3, Some("第一工作队"), false, None, known),
            ]
        );
        let errors: Vec<(u32, &str, &str)> = p
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.reason.as_str()))
            .collect();
        assert_eq!(
            errors,
            vec![
                (4, "干部编号", "“x”不是有效的干部编号（UUID）"),
                (4, "登录账号", "与第2行的登录账号重复"),
                (
                    4,
                    "是否队长",
                    "工作队“第一工作队”已在第2行标明队长，一个工作队只有一名队长"
                ),
                (5, "是否队长", "标为队长的干部须填写所属工作队"),
                (5, "登录账号", "登录账号不能含空格或控制字符"),
                (6, "是否队长", "“也许”应为“是”或“否”（或留空）"),
            ]
        );
    }
}
